from marketplace.plugins import hookimpl


@hookimpl
def payment_gateways():
    from .gateway import TallyGateway

    return [TallyGateway()]
