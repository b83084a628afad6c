from marketplace.plugins import hookimpl


@hookimpl
def payment_gateways():
    from .gateway import DevGateway

    return [DevGateway()]


@hookimpl
def graphql_mutations():
    from .schema import Mutation

    return Mutation
