"""The group-buy GraphQL: types, queries (reads), mutations (thin, over the services)."""
import graphene

from .mutations import Mutation
from .queries import Query
from .types import DealBadge, resolve_product_group_deal


def type_fields():
    return {
        "Product": {
            # Nullable on purpose: null without an open deal, and while the plugin is off.
            "group_deal": graphene.Field(DealBadge, resolver=resolve_product_group_deal,
                                         description="The product's open group deal (拼团/团购券): badge and price."),
        },
    }


__all__ = ["Query", "Mutation", "type_fields"]
