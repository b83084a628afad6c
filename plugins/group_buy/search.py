"""The deal badge in search (both backends).

Results of either backend are catalog products, so the badge and the deal price reach
clients through the `Product.groupDeal` field (`schema/types.py`, batched by
`dataloaders.DealBadgeByProductIdLoader`), whatever backend answered. The Elasticsearch
product document also carries the badge, for filters and sorting to come: three
`ProductField`s (`product_fields()`, returned by the `register_product_fields` hook), each
filled from `deal_badges(product_ids)` (one query per batch of products indexed).
"""
from __future__ import annotations

from marketplace.plugins import clock

FIELDS = ("has_group_deal", "group_deal_price", "group_deal_ends_at")


def product_fields():
    """[ProductField] of the three document fields (no filter inputs: values only)."""
    from elasticsearch.dsl import Boolean, Date, Double

    from marketplace.plugins.fields import ProductField

    def values_of(name):
        def values(products):
            return {pk: badge[name] for pk, badge in deal_badges([p.pk for p in products]).items()}

        return values

    mappings = {"has_group_deal": Boolean(), "group_deal_price": Double(), "group_deal_ends_at": Date()}
    return [ProductField(name=name, es_mapping=mappings[name], values=values_of(name)) for name in FIELDS]


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
