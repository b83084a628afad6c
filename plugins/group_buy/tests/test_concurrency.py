"""G3 (joins racing for the last seats) and G4 (the success transition replayed
concurrently), on PostgreSQL, with Stripe (stripe-mock and signed webhooks) for G4."""
import threading

import pytest
from django.db import connection, connections

from marketplace.plugins import hookimpl, ledger
from marketplace.plugins.testing import GraphQLClient

from .helpers import ADDRESS, CHECKOUT, COMPLETE, GROUP, PAY, SHIP, live_deal, my_groups, pay_dev, place, signed_in


def _postgres_only():
    from tests.conftest import unavailable

    if connection.vendor != "postgresql":
        unavailable("needs PostgreSQL row locks (developer run on SQLite)", "CI must run this on PostgreSQL")


def _race(functions):
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(index, function):
        barrier.wait()
        try:
            results[index] = function()
        except Exception as exc:  # reported in the results
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return results


@pytest.mark.django_db(transaction=True)
def test_g3_fifty_parallel_joins_for_the_last_two_seats(client, shop, owner, staff_api, members, make_user, worker,
                                                         settings):
    """G3: 50 members complete their checkouts at once for the last 2 seats of a group of
    4: exactly 2 hold seats (and join when they pay), 48 are refused GROUP_FULL."""
    _postgres_only()
    from django.test import Client

    from marketplace.plugins.testing import gid

    from plugins.group_buy.models import Group

    settings.LOGIN_MAX_ATTEMPTS_PER_IP = 100  # 50 members sign in from the test's one address
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], groupSize=4, maxUnits=200)
    leader, first = members[:2]
    opened = place(leader, shop, deal_id=deal["id"])
    pay_dev(leader, opened["order"]["id"], method="WALLET")
    code = my_groups(leader)[0]["group"]["shareCode"]
    pay_dev(first, place(first, shop, code=code)["order"]["id"], method="WALLET")
    carts = []
    for index in range(50):
        api = signed_in(Client(), make_user(f"racer{index}@example.com"))
        token = api.mutate(CHECKOUT, {"code": code})["checkout"]["token"]
        api.mutate(ADDRESS, {"t": token})
        api.mutate(SHIP, {"t": token, "v": gid("Vendor", shop["vendor"].pk), "m": gid("ShippingMethod", shop["method"].pk)})
        carts.append((api.token, token))

    def complete(access, token):
        api = GraphQLClient(Client())
        api.token = access
        payload = api.mutate(COMPLETE, {"t": token})
        return (api, payload["order"]["id"]) if not payload["errors"] else payload["errors"][0]["code"]

    outcomes = _race([lambda a=a, t=t: complete(a, t) for a, t in carts])
    held = [o for o in outcomes if isinstance(o, tuple)]
    assert len(held) == 2, outcomes
    assert sorted(o for o in outcomes if not isinstance(o, tuple)) == ["GROUP_FULL"] * 48
    group = Group.objects.get(share_code=code)
    assert (group.paid_count, group.held_count) == (2, 2)
    for api, order_id in held:
        pay_dev(api, order_id, method="WALLET")
    settled = leader.data(GROUP, {"code": code})["groupBuyGroup"]
    assert settled["status"] == "SUCCEEDED" and settled["paidCount"] == 4


class EventLog:
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    @hookimpl
    def handle_event(self, event):
        with self.lock:
            self.events.append(event.name)


@pytest.mark.django_db(transaction=True)
def test_g4_success_replayed_concurrently_settles_once(client, shop, owner, staff_api, members, stripe_mock, plugin,
                                                        worker):
    """G4: the last member's Stripe payment event delivered 8 times at once (signed), with
    the sweep, the follow-up and the transition itself replayed alongside: one SUCCEEDED,
    one group_succeeded event, one sale booking per sub-order."""
    _postgres_only()
    from django.db import transaction
    from django.test import Client

    from marketplace.orders.models import LedgerEntry
    from plugins.group_buy import settlement
    from plugins.group_buy.models import Group, GroupLog
    from tests.conftest import signed_post, stripe_event, wait_for

    log = EventLog()
    plugin(log, "event-log")
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    intents = []
    for index, api in enumerate(members[:3]):
        placed = place(api, shop, deal_id=deal["id"]) if index == 0 else place(api, shop, code=code)
        started = api.mutate(PAY, {"o": placed["order"]["id"], "g": "stripe", "m": "WALLET"})
        assert started["errors"] == [] and started["payment"]["reference"].startswith("pi_"), started
        intents.append(started["payment"]["reference"])
        if index < 2:
            assert signed_post(client, stripe_event("payment_intent.succeeded", intents[-1], 15000)).status_code == 200
        if index == 0:
            code = my_groups(api)[0]["group"]["shareCode"]
    group = Group.objects.get(share_code=code)
    assert (group.paid_count, group.held_count) == (2, 1)
    last = stripe_event("payment_intent.succeeded", intents[2], 15000)

    def deliver():
        return signed_post(Client(), last).status_code

    def replay_transition():
        with transaction.atomic():
            locked = Group.objects.select_for_update().get(pk=group.pk)
            return settlement.succeed(locked, "replayed")

    calls = [deliver] * 8 + [settlement.sweep] * 4 + [lambda: settlement.follow_up(group.pk)] * 4 \
        + [replay_transition] * 4
    results = _race(calls)
    assert results[:8] == [200] * 8, results
    assert not any(isinstance(r, Exception) for r in results), results
    group.refresh_from_db()
    assert group.status == "succeeded"
    assert GroupLog.objects.filter(group=group, status="succeeded").count() == 1
    wait_for(lambda: all(m["status"] == "WON" for api in members[:3] for m in my_groups(api)),
             message="the follow-up")
    assert log.events.count("group_succeeded") == 1
    sales = LedgerEntry.objects.filter(kind="sale").values_list("vendor_order_id", flat=True)
    assert len(set(sales)) == 3 and len(sales) == 3 * 3  # customer_payments, vendor_payable, platform_revenue
    assert ledger.is_balanced()


def _other_connection():
    """A second PostgreSQL session (another worker, another request), autocommit."""
    import psycopg

    params = connection.get_connection_params()
    return psycopg.connect(autocommit=True, **{k: params[k] for k in ("dbname", "user", "password", "host", "port")
                                               if params.get(k) is not None})


@pytest.mark.django_db(transaction=True)
def test_the_sweep_skips_a_group_held_elsewhere_and_a_follow_up_runs_on_one_worker_at_a_time(
        shop, owner, staff_api, members, worker, frozen_clock):
    """Sweeps (beat, or a slow one overlapping the next) never queue up behind a row another
    transaction holds, and the follow-up of a group - the queued task, a sweep resuming it -
    runs on one worker at a time (no second set of gateway calls racing the first)."""
    import time
    from datetime import timedelta

    from marketplace.plugins import clock
    from plugins.group_buy import followup, settlement, tasks
    from plugins.group_buy.models import Group
    from tests.conftest import wait_for

    _postgres_only()
    frozen_clock(clock.now())
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    leader = members[0]
    placed = place(leader, shop, deal_id=deal["id"])
    pay_dev(leader, placed["order"]["id"], method="WALLET")
    group = Group.objects.get()  # the leader's, the only one
    frozen_clock.travel(timedelta(hours=24, minutes=2))

    with _other_connection() as other:
        with other.transaction():  # e.g. a late payment taking the seat holds the group's row
            other.execute("SELECT id FROM group_buy_group WHERE id = %s FOR UPDATE", [group.pk])
            started = time.monotonic()
            assert settlement.sweep()["failed"] == 0
            assert time.monotonic() - started < 10  # skipped, not waited for
        group.refresh_from_db()
        assert group.status == "forming"

        other.execute("SELECT pg_advisory_lock(%s)", [followup.FOLLOW_UP_LOCK + group.pk])  # a worker on it
        assert settlement.sweep()["failed"] == 1
        assert tasks.follow_up.delay(group.pk).get(timeout=60) is False  # returned at once: not its turn
        (mine,) = my_groups(leader)  # the refund is tracked with the failure, not yet sent
        assert mine["status"] == "REFUNDING" and mine["refund"]["status"] == "REQUESTED", mine
        other.execute("SELECT pg_advisory_unlock(%s)", [followup.FOLLOW_UP_LOCK + group.pk])

    tasks.follow_up.delay(group.pk).get(timeout=60)
    wait_for(lambda: [m["status"] for m in my_groups(leader)] == ["REFUNDED"], timeout=60, message="refunded")
    group.refresh_from_db()
    assert group.follow_up_done_at is not None
    assert ledger.is_balanced()
