"""Bad input gets a field error with a code: joining a full, expired or own group, a
second join, a wrong share code, the per-user limit, new customers only, a sold-out deal;
and the same refusals at completion when the group changed after the cart was filled."""
from datetime import timedelta

import pytest

from marketplace.plugins import clock

from .helpers import CHECKOUT, COMPLETE, live_deal, my_groups, pay_dev, place


def _error(api, **variables):
    payload = api.mutate(CHECKOUT, {"deal": None, "code": None, "group": None, "q": 1, **variables})
    assert payload["checkout"] is None
    (error,) = payload["errors"]
    return error["field"], error["code"]


@pytest.fixture
def forming(shop, owner, staff_api, members):
    """A live deal for 3 with one group opened (and paid) by members[0]."""
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], perUserLimit=2)
    pay_dev(members[0], place(members[0], shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    (mine,) = my_groups(members[0])
    return deal, mine["group"]


@pytest.mark.django_db
def test_join_refusals_name_the_field_and_code(shop, forming, members, gql):
    deal, group = forming
    code = group["shareCode"]
    assert _error(members[0], code=code) == ("shareCode", "INVALID")  # own group
    assert _error(members[1], code="ABCDEFGH") == ("shareCode", "NOT_FOUND")
    assert _error(members[1], code="not a code!") == ("shareCode", "NOT_FOUND")
    assert _error(members[1], deal=deal["id"], code=code) == ("dealId", "INVALID")  # one of them only
    assert _error(members[1], code=code, q=2) == ("quantity", "INVALID")  # 1 per member
    assert _error(members[0], deal=deal["id"]) == ("dealId", "LIMIT_EXCEEDED")  # already leads an open group
    anonymous = gql.execute(CHECKOUT, {"code": code})
    assert anonymous["data"]["groupBuyCheckout"]["errors"][0]["code"] == "NOT_AUTHENTICATED"
    pay_dev(members[1], place(members[1], shop, code=code)["order"]["id"], method="WALLET")
    assert _error(members[1], code=code) == ("shareCode", "LIMIT_EXCEEDED")  # a second join
    pay_dev(members[2], place(members[2], shop, code=code)["order"]["id"], method="WALLET")
    assert _error(members[3], code=code) == ("shareCode", "GROUP_CLOSED")  # succeeded: closed


@pytest.mark.django_db
def test_full_and_expired_groups(shop, owner, staff_api, members, frozen_clock):
    frozen_clock(clock.now())
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], groupSize=2)
    pay_dev(members[0], place(members[0], shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    code = my_groups(members[0])[0]["group"]["shareCode"]
    place(members[1], shop, code=code)  # holds the last seat, unpaid
    assert _error(members[2], code=code) == ("shareCode", "GROUP_FULL")
    frozen_clock.travel(timedelta(hours=24, minutes=1))
    assert _error(members[3], code=code) == ("shareCode", "GROUP_CLOSED")


@pytest.mark.django_db
def test_refused_at_completion_when_the_group_filled_meanwhile(shop, owner, staff_api, members):
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], groupSize=2)
    pay_dev(members[0], place(members[0], shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    code = my_groups(members[0])[0]["group"]["shareCode"]
    from .helpers import ADDRESS, SHIP
    from marketplace.plugins.testing import gid

    token = members[2].mutate(CHECKOUT, {"code": code})["checkout"]["token"]
    members[2].mutate(ADDRESS, {"t": token})
    members[2].mutate(SHIP, {"t": token, "v": gid("Vendor", shop["vendor"].pk), "m": gid("ShippingMethod", shop["method"].pk)})
    place(members[1], shop, code=code)  # takes the last seat first
    refused = members[2].mutate(COMPLETE, {"t": token})
    assert refused["order"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("lines.0", "GROUP_FULL")]


@pytest.mark.django_db
def test_per_user_limit_new_customers_and_sold_out(shop, owner, staff_api, members):
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], groupSize=2, maxUnits=4,
                     newCustomersOnly=True)
    pay_dev(members[0], place(members[0], shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    pay_dev(members[1], place(members[1], shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    # both groups hold 2 units each of the 4: no room for a third group
    assert staff_api.data("query($id: ID!) { groupDeal(id: $id) { status unitsLeft } }", {"id": deal["id"]}) == {
        "groupDeal": {"status": "SOLD_OUT", "unitsLeft": 0}}
    assert _error(members[2], deal=deal["id"]) == ("dealId", "SOLD_OUT")
    # members[0] bought at this shop already (its group order is paid): not a new customer any more
    code = my_groups(members[1])[0]["group"]["shareCode"]
    assert _error(members[0], code=code) == ("shareCode", "LIMIT_EXCEEDED")  # per-user limit 1 comes first
    second_deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], groupSize=2, newCustomersOnly=True)
    assert _error(members[0], deal=second_deal["id"]) == ("dealId", "PERMISSION_DENIED")
    # joining a forming group of a sold-out deal still works: the group holds its units
    pay_dev(members[2], place(members[2], shop, code=code)["order"]["id"], method="WALLET")
    assert my_groups(members[2])[0]["group"]["status"] == "SUCCEEDED"
