"""A real Celery worker PROCESS killed (SIGKILL) in the middle of settling a group, at each
step, and started again: every member is charged once and refunded at most once, the
ledger balances.

The worker runs the engine against the test database with the "tally" gateway (a
Stripe-like test gateway that honours idempotency keys and counts the money it moves).
`GROUP_BUY_PAUSE_AT` makes it block at a named step (plugins/group_buy/failpoints.py);
the test sees the marker file, kills the process group, and starts a new worker paused at
the next step. The beat's sweep (sent by the test, as beat would) resumes the work.
"""
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from marketplace.plugins import clock, ledger

from .helpers import PAY, live_deal, my_groups, place

ROOT = Path(__file__).resolve().parents[3]
REFUND_STEPS = ["follow_up.start", "refund.before_request", "gateway.refund.before", "gateway.refund.after",
                "refund.after_request", None]
CAPTURE_STEPS = ["follow_up.start", "success.before_capture", "gateway.capture.before", "gateway.capture.after",
                 "success.after_capture", None]


class WorkerProcess:
    """`celery worker` in its own process group, on the test database and broker."""

    def __init__(self, tmp_path, queue):
        self.dir = tmp_path
        self.queue = queue
        self.process = None
        self.log = open(tmp_path / "worker.log", "ab")

    def env(self, pause):
        settings = connection.settings_dict
        env = dict(os.environ)
        env.update(
            DATABASE_URL=(f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:"
                          f"{settings['PORT']}/{settings['NAME']}"),
            MARKETPLACE_BUILTIN_PLUGINS=",".join([*_builtin(), "plugins.group_buy.tests.tally_gateway"]),
            GROUP_BUY_PAUSE_DIR=str(self.dir), CELERY_TASK_ALWAYS_EAGER="false",
        )
        env.pop("GROUP_BUY_PAUSE_AT", None)
        if pause:
            env["GROUP_BUY_PAUSE_AT"] = pause
        return env

    def start(self, pause):
        for marker in self.dir.glob("*.*"):
            if marker.name != "worker.log":
                marker.unlink()
        self.log.write(f"\n=== start, pause at {pause}\n".encode())
        self.log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "--pool", "solo", "-Q", self.queue,
             "-n", f"gbkill-{uuid.uuid4().hex[:6]}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat",
             "-l", "warning"],
            cwd=ROOT, env=self.env(pause), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def paused_at(self, name):
        return name is not None and (self.dir / name).exists()

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def close(self):
        self.kill()
        self.log.close()


def _builtin():
    from django.conf import settings

    return list(settings.MARKETPLACE_BUILTIN_PLUGINS)


@pytest.fixture
def worker_process(tmp_path, transactional_db, celery_worker_thread):
    """A worker process taking the default queue; the test session's in-process worker
    stops consuming it meanwhile (so only the process can run the tasks)."""
    from marketplace.plugins.testing import celery_app

    app = celery_app()
    queue = app.conf.task_default_queue
    if celery_worker_thread is not None:
        app.control.cancel_consumer(queue, destination=[celery_worker_thread.hostname], reply=True, timeout=5)
    process = WorkerProcess(tmp_path, queue)
    try:
        yield process
    finally:
        process.close()
        _forget_unacked(app)
        if celery_worker_thread is not None:
            app.control.add_consumer(queue, destination=[celery_worker_thread.hostname], reply=True, timeout=5)


def _forget_unacked(app):
    """Messages the killed workers held would be redelivered an hour later (the broker's
    visibility timeout): drop them, their work was resumed and finished here."""
    with app.connection() as conn:
        client = conn.default_channel.client
        client.delete("unacked", "unacked_index")


def _run_killing_at(worker, steps, done, sweep):
    """Start the worker paused at each step in turn; kill it when it gets there."""
    hit = []
    for step in steps:
        worker.start(step)
        time.sleep(0.2)
        sweep()  # what beat sends: resumes what the killed worker left
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if worker.paused_at(step):
                hit.append(step)
                break
            if step is None and done():
                break
            if worker.process.poll() is not None:
                raise AssertionError(f"the worker exited by itself; see {worker.dir / 'worker.log'}")
            time.sleep(0.1)
        else:
            raise AssertionError(f"the worker neither reached {step} nor finished ({_state()}); "
                                 f"see {worker.dir / 'worker.log'}")
        worker.kill()
    return hit


def _state():
    from marketplace.plugins.payments import refund_record
    from plugins.group_buy.models import Group, Member, RefundTrack

    tracks = list(RefundTrack.objects.values_list("status", "refund_id", "attempt"))
    refunds = [refund_record(refund_id) for _, refund_id, _ in tracks if refund_id]
    return {"groups": list(Group.objects.values_list("status", "follow_up_done_at")),
            "members": list(Member.objects.values_list("status", "paid_by")),
            "tracks": tracks, "refunds": [(r.status, r.reference) for r in refunds if r]}


def _pay(api, order_id, method):
    from marketplace.plugins.payments import GatewayEventData, deliver_event, find_payment

    started = api.mutate(PAY, {"o": order_id, "g": "tally", "m": method})
    assert started["errors"] == [], started["errors"]
    reference = started["payment"]["reference"]
    payment = find_payment("tally", reference)
    status = "authorized" if started["payment"]["captureMethod"] == "manual" else "captured"
    deliver_event("tally", GatewayEventData(  # as the gateway's webhook would
        event_id=f"evt_{uuid.uuid4().hex}", type="payment_intent", reference=reference, status=status,
        amount=payment.amount if status == "captured" else None, currency="CNY"))
    return reference


def _send_beat():
    """What beat sends: the sweep (resumes follow-ups) and the refund reconciliation
    (resends a refund whose gateway call a kill cut short)."""
    from plugins.group_buy import tasks

    tasks.sweep.delay()
    tasks.reconcile_refunds.delay()


def _postgres_only():
    from tests.conftest import unavailable

    if connection.vendor != "postgresql":
        unavailable("needs PostgreSQL and a worker process", "CI must run this on PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_refunds_of_a_failed_group_survive_a_worker_killed_at_each_step(shop, owner, staff_api, members, plugin,
                                                                          worker_process, frozen_clock):
    _postgres_only()
    from datetime import timedelta

    from marketplace.plugins.services import update_plugin

    from plugins.group_buy.models import Group, Member, RefundTrack
    from plugins.group_buy.settlement import fail

    from .tally_gateway import gateway as tally
    from .tally_gateway import hooks as tally_hooks

    plugin(tally_hooks, "tally_gateway")
    update_plugin("group_buy", settings={"resend_after_seconds": 0, "resume_after_seconds": 0})
    frozen_clock(clock.now() - timedelta(hours=25))  # the group opens a day ago...
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], groupSize=4)
    references = []
    for index, api in enumerate(members[:3]):
        placed = place(api, shop, deal_id=deal["id"]) if index == 0 else place(api, shop, code=code)
        references.append(_pay(api, placed["order"]["id"], "WALLET"))  # captured at once
        code = my_groups(members[0])[0]["group"]["shareCode"]
    clock.reset()  # ...and its window is over now (the worker process runs on the real clock)
    group = Group.objects.get(share_code=code)
    assert fail(group.pk)  # the sweep's transition, here; the follow-up goes to the worker process

    def done():
        return Member.objects.filter(group=group, status="refunded").count() == 3 and \
            Group.objects.filter(pk=group.pk, follow_up_done_at__isnull=False).exists()

    hit = _run_killing_at(worker_process, REFUND_STEPS, done, _send_beat)
    assert hit == REFUND_STEPS[:-1], hit  # killed once at every step
    assert done()
    for reference in references:  # the money went back once per member, in full
        assert tally.refunded_amounts(reference) == [Decimal("150.00")], reference
    assert RefundTrack.objects.filter(status="succeeded").count() == 3
    assert all(track.attempt == 1 for track in RefundTrack.objects.all())
    assert ledger.is_balanced() and ledger.balance(shop["vendor"].pk) == Decimal("0.00")


@pytest.mark.django_db(transaction=True)
def test_captures_of_a_filled_group_survive_a_worker_killed_at_each_step(shop, owner, staff_api, members, plugin,
                                                                           worker_process):
    _postgres_only()
    from marketplace.plugins.services import update_plugin

    from plugins.group_buy.models import Group, Member

    from .tally_gateway import gateway as tally
    from .tally_gateway import hooks as tally_hooks

    plugin(tally_hooks, "tally_gateway")
    update_plugin("group_buy", settings={"resume_after_seconds": 0})
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    references = []
    for index, api in enumerate(members[:3]):
        placed = place(api, shop, deal_id=deal["id"]) if index == 0 else place(api, shop, code=code)
        references.append(_pay(api, placed["order"]["id"], "CARD"))  # authorised; the last one fills the group
        code = my_groups(members[0])[0]["group"]["shareCode"]
    group = Group.objects.get(share_code=code)
    assert group.status == "succeeded"
    assert all(tally.captured_times(r) == 0 for r in references)

    def done():
        return Member.objects.filter(group=group, status="won").count() == 3

    hit = _run_killing_at(worker_process, CAPTURE_STEPS, done, _send_beat)
    assert hit == CAPTURE_STEPS[:-1], hit
    assert done()
    for reference in references:
        assert tally.captured_times(reference) == 1, reference  # captured once, whatever was repeated
    assert all(m["order"]["status"] == "PAID" for api in members[:3] for m in my_groups(api))
    assert ledger.is_balanced()
