"""The demo data (`populatedb` loads this plugin's demo through fixtures/demo.py): the
demo repair shops and dealers take bookings with bays, hours and a five-service menu; the
admin pages platform operators use render."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from marketplace.plugins.testing import GraphQLClient

from .conftest import BOOK, cart, iso


@pytest.mark.django_db
def test_populatedb_gives_the_demo_shops_bays_hours_and_a_menu(client, frozen_clock):
    from datetime import datetime, timezone

    from plugins.repair_booking.models import RepairBay, RepairService, RepairShop

    frozen_clock(datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc))  # a Tuesday, 08:00 in Beijing
    out = StringIO()
    call_command("populatedb", stdout=out)
    assert "repair_booking: 6 shops take bookings" in out.getvalue()
    counts = [m.objects.count() for m in (RepairShop, RepairBay, RepairService)]
    assert counts[0] == 6 and counts[2] == 30
    call_command("populatedb", stdout=StringIO())
    assert [m.objects.count() for m in (RepairShop, RepairBay, RepairService)] == counts  # idempotent
    api = GraphQLClient(client)
    shops = api.data("""{ searchShops(services: ["brake-pads"], sortBy: NEXT_FREE_SLOT) { totalCount
      shops { slug repairShop { labourRate { amount } weeklyHours { weekday intervals }
        services { code listPrice { amount } variant { id } } } } } }""")["searchShops"]
    assert shops["totalCount"] == 6
    wangjing = next(s for s in shops["shops"] if s["slug"] == "wangjing-quick-service")["repairShop"]
    assert wangjing["labourRate"]["amount"] == "120.00"
    assert wangjing["weeklyHours"][0] == {"weekday": 0, "intervals": [["08:00", "20:00"]]}
    menu = {s["code"]: s for s in wangjing["services"]}
    assert set(menu) == {"brake-pads", "oil-change", "tyre-fitting", "alignment", "ac-service"}
    assert menu["brake-pads"]["listPrice"]["amount"] == "96.00"
    api.login("member@demo.marketplace", "demo-pass-2026")
    token = cart(api, [{"variantId": menu["brake-pads"]["variant"]["id"], "quantity": 1}])
    slots = api.data("""query($t: UUID!) { repairSlots(checkoutToken: $t) { firstFree } }""", {"t": token})
    booked = api.mutate(BOOK, {"t": token, "start": slots["repairSlots"]["firstFree"]})
    assert booked["errors"] == [] and booked["amountDue"]["amount"] == "76.80"  # the demo member's labour discount
    assert iso


@pytest.mark.django_db
def test_admin_pages_render(client, repair, make_user):
    from plugins.repair_booking import models

    root = make_user("root@example.com", is_staff=True, is_superuser=True)
    client.force_login(root)
    for model in (models.RepairShop, models.RepairService, models.RepairBooking, models.RepairBayBlock,
                  models.RepairHold, models.TowRequest, models.PartsLeadTime):
        info = (model._meta.app_label, model._meta.model_name)
        assert client.get(reverse("admin:%s_%s_changelist" % info)).status_code == 200, info
        first = model.objects.first()
        if first is not None:
            assert client.get(reverse("admin:%s_%s_change" % info, args=[first.pk])).status_code == 200, info
