"""Fixtures of the vendor plans tests: the seeded plans, vendors with their owner signed in,
stripe-mock behind a recording proxy (see helpers.py for the event builders)."""
import itertools

import pytest

from marketplace.plugins.testing import StripeRecorder

from .helpers import Owner

_counter = itertools.count(1)


@pytest.fixture
def plans(db):
    from plugins.vendor_plans.models import Plan
    from plugins.vendor_plans.plans import seed

    seed()
    return {p.code: p for p in Plan.objects.all()}


@pytest.fixture
def billing(stripe_mock, settings):
    """stripe-mock behind a recording proxy: `billing.calls("POST", "/v1/subscriptions")`."""
    with StripeRecorder(stripe_mock) as recorder:
        settings.STRIPE_API_BASE = recorder.url
        yield recorder


@pytest.fixture
def owner(make_vendor, plans):
    def make(kind="repair_shop", slug=None):
        slug = slug or f"{kind.replace('_', '-')}-{next(_counter)}"
        return Owner(make_vendor(slug, kind=kind))

    return make




@pytest.fixture
def require_plan(db):
    """The platform requires a plan: vendors without one are SUSPENDED."""
    from marketplace.plugins.services import update_plugin

    update_plugin("vendor_plans", settings={"require_plan": True})
