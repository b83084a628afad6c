"""The demo data: live deals from two parts vendors and a repair shop's voucher deal,
loaded by populatedb through the public API, usable at once by the demo member."""
from io import StringIO

import pytest
from django.core.management import call_command

from marketplace.plugins.testing import GraphQLClient

from .helpers import my_groups, pay_dev, place

DEALS = """{ groupDeals(first: 10) { totalCount edges { node { id kind status groupSize dealPrice { amount }
  listPrice { amount } vendor { slug } product { slug groupDeal { label } } } } } }"""


@pytest.mark.django_db(transaction=True)
def test_populatedb_loads_live_demo_deals_once(client, worker):
    from fixtures.demo import DEMO_PASSWORD
    from tests.conftest import wait_for

    out = StringIO()
    call_command("populatedb", stdout=out)
    assert "group_buy: 3 demo deals created" in out.getvalue()
    call_command("populatedb", stdout=(again := StringIO()))
    assert "group_buy: 0 demo deals created" in again.getvalue()
    api = GraphQLClient(client)
    listed = api.data(DEALS)["groupDeals"]
    assert listed["totalCount"] == 3
    deals = {edge["node"]["vendor"]["slug"]: edge["node"] for edge in listed["edges"]}
    assert set(deals) == {"jingcheng-auto-parts", "shilihe-auto-parts", "wangjing-quick-service"}
    assert deals["wangjing-quick-service"]["kind"] == "SERVICE_VOUCHER"
    assert all(d["status"] == "LIVE" and d["product"]["groupDeal"] for d in deals.values())
    for deal in deals.values():  # each at or above the 70% floor
        assert float(deal["dealPrice"]["amount"]) >= 0.7 * float(deal["listPrice"]["amount"])

    member = GraphQLClient(client)
    member.login("member@demo.marketplace", DEMO_PASSWORD)
    voucher_deal = deals["wangjing-quick-service"]
    placed = place(member, {"method": None}, deal_id=voucher_deal["id"])
    pay_dev(member, placed["order"]["id"], method="WALLET")
    wait_for(lambda: my_groups(member)[0]["vouchers"], message="the demo member's voucher")
    (mine,) = my_groups(member)
    assert mine["status"] == "WON" and mine["vouchers"][0]["status"] == "UNUSED"
