"""The rules as pure functions: the one access function's table, and the derivations that
make event order irrelevant."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from plugins.vendor_plans.access import derive_access, effective_status, entitled_plan, grace_deadline, grants
from plugins.vendor_plans.models import Access, Plan, Status

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=14)


@pytest.mark.parametrize("status, grace_until, expected", [
    (Status.TRIALING, None, Access.FULL),
    (Status.ACTIVE, None, Access.FULL),
    (Status.PAST_DUE, LATER, Access.GRACE),
    (Status.PAST_DUE, NOW, Access.LIMITED),  # grace ends at that instant
    (Status.PAST_DUE, NOW - timedelta(days=1), Access.LIMITED),
    (Status.PAST_DUE, None, Access.LIMITED),
    (Status.UNPAID, LATER, Access.LIMITED),
    (Status.PAUSED, None, Access.LIMITED),
    (Status.INCOMPLETE, None, Access.LIMITED),
    (Status.CANCELED, None, Access.SUSPENDED),
    (Status.INCOMPLETE_EXPIRED, None, Access.SUSPENDED),
])
def test_access_table(status, grace_until, expected):
    assert derive_access(status, now=NOW, grace_until=grace_until) == expected
    # The vendor's own suspension by the platform wins whatever it pays.
    assert derive_access(status, now=NOW, grace_until=grace_until, vendor_status="suspended") == Access.SUSPENDED
    assert derive_access(status, now=NOW, grace_until=grace_until, vendor_status="approved") == expected


def test_no_subscription_and_unconfirmed_ones():
    assert derive_access(None, now=NOW) == Access.FULL  # the engine's defaults: nobody hidden by installing
    assert derive_access(None, now=NOW, require_plan=True) == Access.SUSPENDED
    # Asked for, not confirmed by the gateway: nothing changes.
    assert derive_access(Status.PENDING, now=NOW) == Access.FULL
    assert derive_access(Status.PENDING, now=NOW, require_plan=True) == Access.SUSPENDED
    assert derive_access(Status.PENDING, now=NOW, previous_status=Status.CANCELED) == Access.SUSPENDED
    assert derive_access(Status.FAILED, now=NOW, require_plan=True) == Access.SUSPENDED
    assert derive_access(Status.FAILED, now=NOW, previous_status=Status.FAILED) == Access.FULL


def test_override_wins_until_it_runs_out():
    assert derive_access(Status.CANCELED, now=NOW, override="full", override_until=LATER) == Access.FULL
    assert derive_access(Status.CANCELED, now=LATER, override="full", override_until=LATER) == Access.SUSPENDED
    assert derive_access(Status.ACTIVE, now=NOW, override="suspended") == Access.SUSPENDED
    assert derive_access(None, now=NOW, require_plan=True, override="full") == Access.FULL
    assert derive_access(Status.ACTIVE, now=NOW, override="full", vendor_status="closed") == Access.SUSPENDED


def test_unknown_status_is_a_bug_not_an_access():
    with pytest.raises(ValueError):
        derive_access("sleeping", now=NOW)


@dataclass
class Invoice:
    first_failed_at: datetime | None = None
    last_failed_at: datetime | None = None
    paid_at: datetime | None = None
    voided: bool = False

    @property
    def owed(self):
        return self.paid_at is None and not self.voided and self.first_failed_at is not None


def test_effective_status_from_the_snapshot_and_the_invoices():
    t = [NOW + timedelta(days=i) for i in range(10)]
    assert effective_status("", None, False, []) == Status.PENDING
    assert effective_status("", None, False, [Invoice(paid_at=t[1])]) == Status.ACTIVE
    failed = Invoice(first_failed_at=t[2], last_failed_at=t[3])
    assert effective_status(Status.ACTIVE, t[1], False, [failed]) == Status.PAST_DUE
    assert effective_status(Status.ACTIVE, t[4], False, [failed]) == Status.ACTIVE  # Stripe said active later
    assert effective_status(Status.UNPAID, t[4], False, [failed]) == Status.UNPAID
    paid = Invoice(first_failed_at=t[2], last_failed_at=t[3], paid_at=t[5])
    assert effective_status(Status.UNPAID, t[4], False, [paid]) == Status.ACTIVE
    assert effective_status(Status.UNPAID, t[6], False, [paid]) == Status.UNPAID  # unpaid again after it
    assert effective_status(Status.CANCELED, t[1], True, [paid]) == Status.CANCELED
    assert effective_status(Status.TRIALING, t[1], False, [Invoice(paid_at=t[2])]) == Status.TRIALING
    assert effective_status(Status.PAUSED, t[1], False, [Invoice(paid_at=t[2])]) == Status.PAUSED


def test_grace_starts_at_the_first_failure_still_owed():
    older = Invoice(first_failed_at=NOW, last_failed_at=NOW + timedelta(days=3))
    newer = Invoice(first_failed_at=NOW + timedelta(days=2), last_failed_at=NOW + timedelta(days=2))
    assert grace_deadline(Status.PAST_DUE, [newer, older], None, 14) == NOW + timedelta(days=14)
    assert grace_deadline(Status.PAST_DUE, [], NOW, 14) == NOW + timedelta(days=14)
    assert grace_deadline(Status.ACTIVE, [older], NOW, 14) is None
    older.paid_at = NOW + timedelta(days=4)
    assert grace_deadline(Status.PAST_DUE, [newer, older], None, 14) == NOW + timedelta(days=16)


def _plan(pk, code, amount, interval="year", **entitlements):
    return Plan(pk=pk, code=code, amount=Decimal(amount), interval=interval, interval_count=1, **entitlements)


def test_entitled_plan_counts_an_upgrade_once_paid_and_a_downgrade_at_once():
    basic, pro, monthly = _plan(1, "basic", "1200.00"), _plan(2, "pro", "3000.00"), _plan(3, "monthly", "150.00",
                                                                                         "month")
    assert monthly.yearly_amount == Decimal("1800.00")
    assert entitled_plan(basic, [basic, pro], set()) == basic
    assert entitled_plan(basic, [basic, pro], {"pro"}) == pro
    assert entitled_plan(pro, [pro, basic], set()) == basic
    assert entitled_plan(basic, [basic, monthly], set()) == basic  # dearer per year: an upgrade
    assert entitled_plan(basic, [basic, None, pro, basic], set()) == basic


def test_grants_by_access():
    plan = _plan(1, "basic", "1200.00", max_products=500, booking=True, vip_tiers=True, commission_rate=Decimal("0.05"))
    full = grants(plan, Access.FULL)
    assert full["max_products"] == 500 and full["booking"] and full["commission_rate"] == Decimal("0.05")
    assert grants(plan, Access.GRACE) == full
    limited = grants(plan, Access.LIMITED)
    assert limited["max_products"] == 0 and not limited["booking"] and limited["commission_rate"] == Decimal("0.05")
    assert grants(plan, Access.SUSPENDED) == limited
    assert grants(None, Access.FULL) is None  # no plan: the engine's defaults
    assert grants(None, Access.SUSPENDED)["max_products"] == 0
