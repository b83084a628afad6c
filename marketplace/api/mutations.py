"""The base class of every mutation."""
import graphene
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from marketplace.core.errors import MarketplaceError

from .errors import Error, to_error_list


class BaseMutation(graphene.Mutation):
    """Subclasses declare `permission` (a policy from marketplace.core.permissions,
    or any callable taking `info`) and implement `perform(cls, info, **arguments)`
    returning the payload. Service errors and permission failures become
    `errors { field code message }`; the mutation's database writes run in one
    transaction that rolls back on error."""

    errors = graphene.List(graphene.NonNull(Error), required=True)

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
            cls.permission(info)
            with transaction.atomic():
                try:
                    payload = cls.perform(info, **data)
                except MarketplaceError as exc:
                    if not exc.keep_changes:
                        raise
                    payload = cls(errors=to_error_list(exc))
        except MarketplaceError as exc:
            return cls(errors=to_error_list(exc))
        if payload.errors is None:
            payload.errors = []
        return payload

    @classmethod
    def perform(cls, info, **data):
        raise NotImplementedError
