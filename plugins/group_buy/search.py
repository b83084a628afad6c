"""The deal badge in search (both backends).

Results of either backend are catalog products, so the badge and the deal price reach
clients through the `Product.groupDeal` field (`schema/types.py`, batched by
`dataloaders.DealBadgeByProductIdLoader`), whatever backend answered. The Elasticsearch
product document also carries the badge, for filters and sorting to come.

`deal_badges(product_ids)` is the one function to port when the search hooks become a
single `register_product_fields()` declaration: it gives, per product with an open deal,
the values of the three document fields below; the two hooks in hooks.py only wrap it.
"""
from __future__ import annotations

from marketplace.plugins import clock

FIELDS = ("has_group_deal", "group_deal_price", "group_deal_ends_at")


def mapping_fields():
    """The document fields: {name: elasticsearch.dsl field}."""
    from elasticsearch.dsl import Boolean, Date, Double

    return {"has_group_deal": Boolean(), "group_deal_price": Double(), "group_deal_ends_at": Date()}


def open_deals(product_ids, now=None):
    """{product_id: the open deal with the lowest price} for live (or sold-out, still
    priced) deals between their dates, of vendors the plugin is on for. One query."""
    from marketplace.plugins import is_active

    from .models import Deal, DealStatus

    now = now or clock.now()
    best = {}
    for deal in Deal.objects.filter(product_id__in=list(product_ids), status__in=[DealStatus.LIVE, DealStatus.SOLD_OUT],
                                    starts_at__lte=now, ends_at__gt=now).select_related(
            "vendor", "product", "variant__product").order_by("deal_price", "pk"):
        if deal.product_id not in best and is_active("group_buy", deal.vendor_id):
            best[deal.product_id] = deal
    return best


def deal_badges(product_ids):
    """{product_id: {"has_group_deal": bool, "group_deal_price": float | None,
    "group_deal_ends_at": datetime | None}} for every id given (False/None without a deal)."""
    found = open_deals(product_ids)
    values = {}
    for product_id in product_ids:
        deal = found.get(product_id)
        values[product_id] = {
            "has_group_deal": deal is not None,
            "group_deal_price": float(deal.deal_price) if deal else None,
            "group_deal_ends_at": deal.ends_at if deal else None,
        }
    return values
