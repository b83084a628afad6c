"""Fixtures of the group-buy tests: a parts vendor with a 200.00 item (floor 140.00) and a
courier, its owner and platform staff signed in, and members."""
from decimal import Decimal

import pytest

from .helpers import signed_in


@pytest.fixture
def shop(make_vendor, make_product, taxonomy):
    from marketplace.checkout.models import ShippingMethod

    vendor = make_vendor("gb-parts", name_zh="团购汽配")
    product = make_product(vendor, "gb-pads", name_zh="刹车片", price="200.00", stock=50)
    method = ShippingMethod.objects.create(vendor=vendor, name_zh="顺丰", price=Decimal("0.00"))
    return {"vendor": vendor, "product": product, "variant": product.variants.first(), "method": method,
            "taxonomy": taxonomy}


@pytest.fixture
def owner(client, shop):
    return signed_in(client, shop["vendor"].owner)


@pytest.fixture
def staff_api(client, staff):
    return signed_in(client, staff)


@pytest.fixture
def members(client, make_user):
    """Signed-in API clients of five members (leader first)."""
    return [signed_in(client, make_user(f"m{i}@example.com", first_name=f"M{i}", last_name="王")) for i in range(5)]


@pytest.fixture(autouse=True)
def _settled_before_teardown(request):
    """Tests whose settlement runs on the real worker end only when every settled group's
    follow-up is done (so the next test's database flush never races a running task)."""
    yield
    if "worker" not in request.fixturenames:
        return
    from plugins.group_buy.models import Group, RefundTrack
    from tests.conftest import wait_for

    def quiet():
        return not Group.objects.exclude(status="forming").filter(follow_up_done_at__isnull=True).exists() and \
            not RefundTrack.objects.filter(status="requested").exists()

    wait_for(quiet, timeout=30, message="settlement follow-ups to finish")
