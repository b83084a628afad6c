"""The price pipeline: adjustments in order, explained, and the floor rule."""
from decimal import Decimal

import pytest
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from marketplace.pricing.pipeline import PriceAdjustment, explain

RATIO = Decimal("0.70")


@pytest.mark.unit
def test_explained_price_adds_up():
    price = explain(Decimal("200.00"), [
        PriceAdjustment("vendor", "Vendor sale price", price=Decimal("180.00")),
        PriceAdjustment("membership", "Member price", percent_off=Decimal("5")),
    ], RATIO)
    assert price.final_price == Decimal("171.00")
    assert [(a.source, a.amount) for a in price.adjustments] == [("vendor", Decimal("-20.00")), ("membership", Decimal("-9.00"))]
    assert price.list_price + sum(a.amount for a in price.adjustments) == price.final_price
    assert not price.floor_applied


@pytest.mark.unit
def test_floor_lifts_a_too_cheap_price_and_says_so():
    price = explain(Decimal("100.00"), [PriceAdjustment("group_buy", "Group deal", percent_off=Decimal("50"))], RATIO)
    assert price.final_price == Decimal("70.00")
    assert price.floor_applied
    assert price.adjustments[-1].source == "platform"
    assert price.adjustments[-1].amount == Decimal("20.00")


@pytest.mark.unit
def test_campaign_exemption_lifts_the_floor():
    price = explain(Decimal("100.00"), [PriceAdjustment("campaign:1", "双11", percent_off=Decimal("50"))], RATIO, exempt=True)
    assert price.final_price == Decimal("50.00") and not price.floor_applied and price.floor_exempt


@pytest.mark.unit
def test_rounding_is_half_up_at_the_edges():
    price = explain(Decimal("0.15"), [PriceAdjustment("x", "x", percent_off=Decimal("50"))], Decimal("0"))
    assert price.final_price == Decimal("0.08")  # 0.075 -> 0.08


@pytest.mark.unit
def test_bad_adjustments_are_refused():
    with pytest.raises(ValueError):
        explain(Decimal("10"), [PriceAdjustment("x", "x")], RATIO)
    with pytest.raises(ValueError):
        explain(Decimal("10"), [PriceAdjustment("x", "x", percent_off=Decimal("150"))], RATIO)


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
adjustment = st.one_of(
    st.builds(lambda p: PriceAdjustment("p", "percent", percent_off=p), st.decimals(min_value=0, max_value=100, places=2)),
    st.builds(lambda a: PriceAdjustment("a", "amount", amount_off=a), st.decimals(min_value=-500, max_value=100000, places=2)),
    st.builds(lambda p: PriceAdjustment("f", "fixed", price=p), money),
)


@pytest.mark.unit
@hsettings(max_examples=400, deadline=None)
@given(list_price=money, adjustments=st.lists(adjustment, max_size=6),
       ratio=st.decimals(min_value=Decimal("0.10"), max_value=Decimal("1.00"), places=2))
def test_floor_holds_for_any_combination(list_price, adjustments, ratio):
    price = explain(list_price, adjustments, ratio)
    floor = (list_price * ratio).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert price.final_price >= floor
    assert price.final_price >= 0
    assert price.final_price == price.final_price.quantize(Decimal("0.01"))
    assert price.list_price + sum(a.amount for a in price.adjustments) == price.final_price
    assert price.floor_applied == any(a.source == "platform" for a in price.adjustments)


@pytest.mark.unit
@hsettings(max_examples=200, deadline=None)
@given(list_price=money, adjustments=st.lists(adjustment, max_size=6))
def test_exempt_prices_are_never_negative_and_still_explain_themselves(list_price, adjustments):
    price = explain(list_price, adjustments, RATIO, exempt=True)
    assert price.final_price >= 0
    assert not price.floor_applied
    assert price.list_price + sum(a.amount for a in price.adjustments) == price.final_price


@pytest.mark.django_db
def test_a_faulty_pricing_plugin_cannot_break_prices(gql, make_vendor, make_product, caplog, plugin):
    from marketplace.plugins import hookimpl

    class Broken:
        @hookimpl
        def price_adjustments(self, lines, context):
            assert context.now is not None
            return {line.variant_id: ["not an adjustment", PriceAdjustment("x", "x", percent_off=Decimal("500")),
                                      PriceAdjustment("guestbook", "ok", amount_off=Decimal("1.00"))] for line in lines}

    vendor = make_vendor("faulty")
    make_product(vendor, "p", price="10.00")
    plugin(Broken(), "broken-pricing")
    result = gql.data('{ product(vendorSlug: "faulty", slug: "p") { variants { price { final { amount } } } } }')
    assert result["product"]["variants"][0]["price"]["final"] == {"amount": "9.00"}
    assert "invalid price adjustment" in caplog.text
