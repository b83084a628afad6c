"""What access does to a vendor: the product quota (LIMIT_EXCEEDED; nothing unpublished at
once, the newest above the limit after 14 days), storefronts leaving listings and search
within seconds through the real Celery worker and Elasticsearch and coming back on
payment, `require_plan`, and the staff listing's query budget."""
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.plugins.entitlements import entitlement
from marketplace.plugins.testing import gid
from marketplace.plugins.vendors import vendor_info
from tests.conftest import wait_for
from tests.test_search_indexing import es, real_worker, total, vendor_doc_count  # noqa: F401 (fixtures)

from .helpers import DAY, ERRORS, NOW, YEAR, deliver, invoice_event, subscription_event, subscription_of

PRODUCT_CREATE = """mutation($v: ID!, $s: String!, $c: ID!, $t: ID!, $st: ProductStatus) {
  productCreate(vendorId: $v, input: {slug: $s, nameZh: "刹车片", category: $c, productType: $t, status: $st}) {
    product { id } %s } }""" % ERRORS
LISTING = "query($v: ID!) { vendorProducts(vendorId: $v, first: 50) { totalCount } }"
PUBLIC_LISTING = "{ products(first: 100) { edges { node { slug } } } }"


def _active(owner, client, kind="parts_vendor", plan="storefront_yearly"):
    vendor = owner(kind)
    assert vendor.start(plan)["errors"] == []
    sub = subscription_of(vendor.vendor.pk)
    deliver(client, subscription_event("created", sub, "active", NOW, period=(NOW, NOW + YEAR)))
    deliver(client, invoice_event("paid", sub, f"in_first_{sub.pk}", NOW, period=(NOW, NOW + YEAR)))
    return vendor, sub


def _create(vendor, taxonomy, slug, status="PUBLISHED"):
    return vendor.api.mutate(PRODUCT_CREATE, {"v": vendor.id, "s": slug, "c": gid("Category", taxonomy.pads.pk),
                                              "t": gid("ProductType", taxonomy.part.pk), "st": status})


@pytest.mark.django_db
def test_over_quota_gets_limit_exceeded_and_nothing_unpublished_for_14_days(owner, billing, client, taxonomy,
                                                                            staff_gql, frozen_clock, gql):
    frozen_clock(NOW)
    vendor, sub = _active(owner, client)
    assert entitlement(vendor.vendor.pk, "max_products") == 2000
    staff_gql.mutate('mutation { vendorPlanUpdate(code: "storefront_yearly", input: {maxProducts: 3}) '
                     '{ plan { entitlements { maxProducts } } errors { code } } }')
    for n in range(3):
        assert _create(vendor, taxonomy, f"pads-{n}")["errors"] == []
    over = _create(vendor, taxonomy, "pads-3")
    assert over["errors"][0]["code"] == "LIMIT_EXCEEDED"
    assert _create(vendor, taxonomy, "pads-draft", status="DRAFT")["errors"][0]["code"] == "LIMIT_EXCEEDED"

    # The plan shrinks: the vendor lists more than it allows, nothing goes offline at once.
    staff_gql.mutate('mutation { vendorPlanUpdate(code: "storefront_yearly", input: {maxProducts: 2}) '
                     '{ errors { code } } }')
    from plugins.vendor_plans.tasks import sweep

    sweep()
    quota = vendor.subscription()["vendorSubscription"]["quota"]
    assert quota["limit"] == 2 and quota["listed"] == 3
    assert quota["deadline"].startswith((NOW + 14 * DAY).date().isoformat())
    frozen_clock(NOW + 13 * DAY)
    sweep()
    assert len(gql.data(PUBLIC_LISTING)["products"]["edges"]) == 3
    frozen_clock(NOW + 14 * DAY + timedelta(minutes=1))
    sweep()
    slugs = {e["node"]["slug"] for e in gql.data(PUBLIC_LISTING)["products"]["edges"]}
    assert slugs == {"pads-0", "pads-1"}  # the newest above the limit became a draft, not deleted
    assert vendor.api.data(LISTING, {"v": vendor.id})["vendorProducts"]["totalCount"] == 3
    assert vendor.subscription()["vendorSubscription"]["quota"] == {"limit": 2, "listed": 2, "deadline": None}
    from plugins.vendor_plans.models import Notice

    assert set(Notice.objects.filter(subscription=sub).values_list("kind", flat=True)) == {"quota_exceeded",
                                                                                         "quota_enforced"}


@pytest.mark.django_db
def test_grace_running_out_is_noticed_by_the_sweep(owner, billing, client, frozen_clock, staff_gql):
    frozen_clock(NOW)
    vendor, sub = _active(owner, client)
    renewal = NOW + YEAR
    frozen_clock(renewal)
    deliver(client, invoice_event("payment_failed", sub, "in_late", renewal, attempt_count=1,
                                  next_attempt=renewal + 3 * DAY, period=(renewal, renewal + YEAR)))
    listing = "query($a: VendorAccess) { vendorSubscriptions(access: $a, first: 10) { totalCount } }"
    assert staff_gql.data(listing, {"a": "GRACE"})["vendorSubscriptions"]["totalCount"] == 1
    frozen_clock(renewal + 15 * DAY)
    from plugins.vendor_plans.tasks import sweep

    sweep()
    assert staff_gql.data(listing, {"a": "LIMITED"})["vendorSubscriptions"]["totalCount"] == 1
    assert entitlement(vendor.vendor.pk, "max_products") == 0
    assert not vendor_info(vendor.vendor.pk).storefront_hidden  # LIMITED still sells what it lists


@pytest.mark.django_db
def test_without_the_setting_vendors_without_a_plan_keep_everything(make_vendor, make_product, gql, plans):
    vendor = make_vendor("no-plan-yet")
    make_product(vendor, "free-pads")
    assert entitlement(vendor.pk, "max_products") is None and not vendor_info(vendor.pk).storefront_hidden
    from plugins.vendor_plans.enforcement import sync_vendors
    from marketplace.plugins.services import update_plugin

    update_plugin("vendor_plans", settings={"require_plan": True})
    sync_vendors()
    assert vendor_info(vendor.pk).storefront_hidden and vendor_info(vendor.pk).status == "approved"
    assert "free-pads" not in str(gql.data(PUBLIC_LISTING))
    assert entitlement(vendor.pk, "max_products") == 0
    update_plugin("vendor_plans", settings={"require_plan": False})
    sync_vendors()
    assert not vendor_info(vendor.pk).storefront_hidden
    assert "free-pads" in str(gql.data(PUBLIC_LISTING))


@pytest.mark.django_db
def test_staff_listing_costs_the_same_queries_for_any_number(owner, billing, client, staff_gql):
    query = """{ vendorSubscriptions(first: 50) { totalCount edges { node {
      vendor { slug } plan { code } entitledPlan { code } status access override { access }
      entitlements { maxProducts } quota { limit listed } invoices { invoiceId amountPaid { amount } }
      pendingChange { kind } } } } }"""

    def count():
        with CaptureQueriesContext(connection) as queries:
            data = staff_gql.data(query)
        return len(queries.captured_queries), data["vendorSubscriptions"]["totalCount"]

    _active(owner, client)
    few = count()
    for _ in range(4):
        _active(owner, client)
    many = count()
    assert few[1] == 1 and many[1] == 5
    assert many[0] == few[0], (few, many)


@pytest.mark.django_db(transaction=True)
def test_suspended_vendor_leaves_listing_and_search_within_seconds_and_returns_on_payment(
        es, real_worker, owner, billing, client, gql, make_product):  # noqa: F811
    es.rebuild()
    vendor, sub = _active(owner, client)
    for number in range(3):
        make_product(vendor.vendor, f"plan-pads-{number}", f"计划刹车片{number}号")
    wait_for(lambda: total(gql, "计划刹车片") == 3, timeout=20, message="the worker to index the products")

    started = time.monotonic()
    deliver(client, subscription_event("deleted", sub, "canceled", NOW + 30 * DAY))
    assert "plan-pads" not in str(gql.data(PUBLIC_LISTING))  # listings: in the webhook's own transaction
    wait_for(lambda: total(gql, "计划刹车片") == 0, timeout=10, message="the products to leave search")
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert vendor_doc_count(es, vendor.vendor.pk) == 0  # removed from the index, not only filtered
    assert vendor_info(vendor.vendor.pk).status == "approved"  # the vendor's status is not touched
    print(f"suspended vendor's products left search in {elapsed:.2f}s")

    # It subscribes again: nothing changes until the gateway confirms the payment.
    assert vendor.start("storefront_yearly")["errors"] == []
    again = subscription_of(vendor.vendor.pk)
    assert vendor.subscription()["vendorPlanAccess"] == "SUSPENDED"
    started = time.monotonic()
    deliver(client, invoice_event("paid", again, "in_comeback", NOW + 31 * DAY))
    wait_for(lambda: total(gql, "计划刹车片") == 3, timeout=10, message="the products to return to search")
    print(f"paid vendor's products returned to search in {time.monotonic() - started:.2f}s")
    assert "plan-pads-0" in str(gql.data(PUBLIC_LISTING))


@pytest.mark.django_db(transaction=True)
def test_turning_require_plan_on_hides_vendors_without_a_plan(real_worker, make_vendor, make_product, staff_gql, gql,
                                                              plans):  # noqa: F811
    vendor = make_vendor("never-subscribed")
    make_product(vendor, "unplanned-pads")
    update = """mutation($s: GenericScalar) { pluginUpdate(name: "vendor_plans", input: {settings: $s}) {
      plugin { settings } errors { field code message } } }"""
    bad = staff_gql.mutate(update, {"s": {"reminder_days": [0]}})
    assert bad["errors"][0]["field"] == "settings.reminderDays"
    assert staff_gql.mutate(update, {"s": {"require_plan": True}})["errors"] == []
    wait_for(lambda: vendor_info(vendor.pk).storefront_hidden, timeout=10, message="the worker to hide it")
    assert "unplanned-pads" not in str(gql.data(PUBLIC_LISTING))
    assert staff_gql.mutate(update, {"s": {"require_plan": False}})["errors"] == []
    wait_for(lambda: not vendor_info(vendor.pk).storefront_hidden, timeout=10, message="the worker to show it")
