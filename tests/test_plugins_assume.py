"""Public plugin API: prices "as if" the buyer had a benefit (`PriceContext.assume`), for
variant objects a resolver holds (`pricing.explain_variants`) and for a cart
(`checkout.cart_lines(..., assume=)`). A preview never changes what is charged."""
from decimal import Decimal

import pytest

from marketplace.plugins.hookspecs import hookimpl


class Perk:
    """Takes 10% off catalog lines for buyers assumed to hold the "perk" benefit."""

    @hookimpl
    def price_adjustments(self, lines, context):
        from marketplace.plugins.pricing import PLATFORM, PriceAdjustment

        if "perk" not in context.assume:
            return None
        return {line.key: [PriceAdjustment("perk", "Perk", percent_off=Decimal("10"), kind="perk",
                                           funded_by=PLATFORM)] for line in lines if line.kind == "product"}


@pytest.mark.django_db
def test_explain_variants_prices_loaded_variants_as_assumed(make_vendor, make_product, plugin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from marketplace.plugins.pricing import explain_variants

    plugin(Perk(), "perk")
    product = make_product(make_vendor("shop"), "pads", price="200.00")
    variants = list(product.variants.select_related("product"))
    assert explain_variants(variants)[variants[0].pk].final_price == Decimal("200.00")
    with CaptureQueriesContext(connection) as ctx:
        preview = explain_variants(variants, assume={"perk"})[variants[0].pk]
    assert preview.final_price == Decimal("180.00")
    assert [a.source for a in preview.adjustments] == ["perk"]
    assert not any("catalog_productvariant" in q["sql"] for q in ctx.captured_queries)  # variants not reloaded


@pytest.mark.django_db
def test_cart_lines_as_assumed_leave_the_real_cart_unchanged(make_vendor, make_product, plugin):
    from marketplace.plugins.checkout import add_line, cart_lines

    plugin(Perk(), "perk")
    product = make_product(make_vendor("shop"), "pads", price="200.00")
    from marketplace.checkout.services import create_checkout

    token = str(create_checkout().token)
    add_line(token, "product", quantity=2, variant_id=product.variants.first().pk)
    assert [line.total for line in cart_lines(token, assume={"perk"})] == [Decimal("360.00")]
    assert [line.total for line in cart_lines(token)] == [Decimal("400.00")]
