"""Prices for plugins: what `price_adjustments` receives and returns, and price lookups.

- `PriceLine` (a line being priced), `PriceContext` (`user`, `now`, `assume`),
  `PriceAdjustment` (what you return: `percent_off` | `amount_off` | `price`, with `kind`,
  `stage`, `stacking` = STACK | BEST_OF | EXCLUSIVE, `group`, `funded_by` = PLATFORM |
  VENDOR), `PriceExplanation` (a priced unit: `list_price`, `final_price`, `adjustments`,
  `floor_price`, `floor_applied`, `floor_exempt`);
- `variant_prices(variant_ids, user=None, assume=())`: {variant_id: PriceExplanation} as a
  listing shows them (the full pipeline, your own adjustments included);
- `explain_variants(variants, user=None, assume=())`: the same for variant objects a
  resolver already holds (their `product` loaded): no query for the variants, e.g. a
  DataLoader behind an "as member" price field;
- `floor_price(list_price)`: the least a catalog unit may cost without an exempt campaign;
- `Money`, `quantize` (half-up to 0.01).
"""
from decimal import Decimal

from marketplace.core.money import Money, quantize
from marketplace.pricing.pipeline import (
    BEST_OF, EXCLUSIVE, PLATFORM, STACK, STAGES, VENDOR, AppliedAdjustment, PriceAdjustment, PriceContext,
    PriceExplanation, PriceLine, active_campaigns, compute_prices, floor_ratio, line_for_variant,
)


def variant_prices(variant_ids, user=None, assume=frozenset()):
    """{variant_id: PriceExplanation} for catalog variants, priced for `user` (None:
    anonymous) as listings do. One batch."""
    from marketplace.catalog.models import ProductVariant

    variants = ProductVariant.objects.select_related("product").filter(pk__in=list(variant_ids))
    return compute_prices([line_for_variant(v, v.product) for v in variants],
                          PriceContext(user=user, assume=frozenset(assume)))


def explain_variants(variants, user=None, assume=frozenset()):
    """{variant_id: PriceExplanation} for catalog variant objects whose `product` is loaded
    (as GraphQL resolvers hold them), priced for `user` as if they had the benefits named in
    `assume` (e.g. {"membership"}): one pipeline batch, no query for the variants."""
    return compute_prices([line_for_variant(v, v.product) for v in variants],
                          PriceContext(user=user, assume=frozenset(assume)))


def floor_price(list_price) -> Decimal:
    """The floor for a unit of this list price (PRICE_FLOOR_RATIO of it, half-up)."""
    return quantize(Decimal(list_price) * floor_ratio())


def floor_exempt(category_id, vendor_id, at=None) -> bool:
    """Whether an active floor-exempt platform campaign covers catalog goods of this
    category and vendor at `at` (default now)."""
    from marketplace.core import clock

    for campaign in active_campaigns(at or clock.now()):
        if not campaign["exempt_from_floor"]:
            continue
        if campaign["categories"] and category_id not in campaign["categories"]:
            continue
        if campaign["vendors"] and vendor_id not in campaign["vendors"]:
            continue
        return True
    return False


__all__ = ["PriceLine", "PriceContext", "PriceAdjustment", "PriceExplanation", "AppliedAdjustment", "STAGES",
           "STACK", "BEST_OF", "EXCLUSIVE", "PLATFORM", "VENDOR", "Money", "quantize", "variant_prices",
           "floor_price", "floor_exempt", "explain_variants"]
