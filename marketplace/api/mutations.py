"""The base class of every mutation: declared permission, object lookup, error mapping.

Transactions belong to the services a mutation calls, never to the mutation: each service
commits its own work (and a service that calls a payment gateway commits its intent
before the call and records the outcome after it). `perform()` should call one service;
when it calls several, their work commits one by one.
"""
import graphene
from django.core.exceptions import ImproperlyConfigured

from marketplace.core.errors import MarketplaceError, NotFound
from marketplace.core.ids import decode_id_of
from marketplace.core.permissions import Policy

from .errors import Error, to_error_list


class BaseMutation(graphene.Mutation):
    """Subclasses declare:

    - `permission`: a policy (`marketplace.core.permissions`: `allow_any`, `authenticated`,
      `platform_staff`, `user_owned(...)`; `vendors.permissions.vendor_role(roles,
      vendor_from=...)`; `checkout.permissions.cart_owner()`), or any callable taking `info`;
    - `lookup` (optional): `("id", ProductNode)` loads the object named by that argument
      (NOT_FOUND naming the argument when it does not exist) before the policy is checked;
      add a third item, a function returning the queryset, to narrow or select_related;
    - `perform(cls, info, **arguments)`, returning the payload; it also receives
      `instance=` when a lookup (or the policy) found the object;
    - `text_not_stored` (optional): `{"argumentName": "why"}` for text arguments that are
      not stored in a column (a lookup, a token that is checked, a date that is parsed),
      whose length the edge limits by `GRAPHQL_MAX_STRING_LENGTH` instead of a column.

    Service errors and permission failures become `errors { field code message }`."""

    errors = graphene.List(graphene.NonNull(Error), required=True)
    lookup = None
    text_not_stored = {}

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(cls, **options):
        if not options.get("abstract") and not callable(getattr(cls, "permission", None)):
            raise ImproperlyConfigured(f"Mutation {cls.__name__} must declare a `permission` policy")
        super().__init_subclass_with_meta__(**options)

    @classmethod
    def mutate(cls, root, info, **data):
        try:
            kwargs = dict(data)
            policy = cls.permission
            if isinstance(policy, Policy):
                policy.precheck(info)
                instance = cls.load_instance(info, data)
                if instance is None:
                    instance = policy.load(info, data)
                policy.check(info, data, instance)
                if instance is not None:
                    kwargs["instance"] = instance
            else:
                policy(info)
            payload = cls.perform(info, **kwargs)
        except MarketplaceError as exc:
            return cls(errors=to_error_list(exc))
        if payload.errors is None:
            payload.errors = []
        return payload

    @classmethod
    def load_instance(cls, info, data):
        if not cls.lookup:
            return None
        argument, node_type, *rest = cls.lookup
        if data.get(argument) is None:  # an optional argument left out
            return None
        queryset = rest[0]() if rest else None
        return cls.get_or_404(node_type, data.get(argument), field=argument, queryset=queryset)

    @staticmethod
    def get_or_404(node_type, global_id, field="id", queryset=None):
        """Decode `global_id` (a global ID of `node_type`) and fetch the object, or raise
        ValidationError (INVALID: not an ID of that type) / NotFound naming `field`."""
        pk = decode_id_of(global_id, node_type._meta.name, field=field)
        if queryset is None:
            queryset = node_type._meta.model.objects
        obj = queryset.filter(pk=pk).first()
        if obj is None:
            raise NotFound(f"{node_type._meta.name} not found.", field=field)
        return obj

    @classmethod
    def perform(cls, info, **data):
        raise NotImplementedError
