"""Vendors through GraphQL: the application journey, staff, isolation, suspension."""
import re

import pytest
from django.core import mail

from tests.conftest import GraphQLClient, gid, wait_for

APPLY = """
mutation($kind: VendorKind!, $slug: String!, $input: VendorProfileInput!) {
  vendorApply(kind: $kind, slug: $slug, input: $input) { vendor { id slug status kind } errors { field code message } }
}"""
APPROVE = "mutation($id: ID!) { vendorApprove(id: $id) { vendor { status warehouses { id name } } errors { code } } }"
SUSPEND = "mutation($id: ID!, $r: String!) { vendorSuspend(id: $id, reason: $r) { vendor { status } errors { field code } } }"
INVITE = """mutation($v: ID!, $e: String!, $r: StaffRole!) {
  vendorStaffInvite(vendorId: $v, email: $e, role: $r) { email role errors { field code } } }"""
ACCEPT = "mutation($t: String!) { vendorInvitationAccept(token: $t) { vendor { slug } role errors { field code } } }"
PRODUCT_CREATE = """mutation($v: ID!, $i: ProductInput!) {
  productCreate(vendorId: $v, input: $i) { product { id slug status } errors { field code message } } }"""
VARIANT_CREATE = """mutation($p: ID!, $i: VariantInput!) {
  productVariantCreate(productId: $p, input: $i) { variant { id sku } errors { field code message } } }"""
STOCK_SET = """mutation($v: ID!, $w: ID!, $q: Int!) {
  stockSet(variantId: $v, warehouseId: $w, quantity: $q) { variant { available inStock } errors { field code } } }"""
LISTING = "{ products(first: 20) { totalCount edges { node { slug vendor { slug } variants { sku available price { final { amount } } } } } } }"


def client_for(client, user):
    api = GraphQLClient(client)
    api.login(user.email)
    return api


@pytest.mark.django_db(transaction=True)
def test_member_applies_staff_approve_owner_invites_staff_sells(client, make_user, taxonomy, worker):
    owner = make_user("li.owner@example.com")
    clerk = make_user("wang.clerk@example.com")
    staff = make_user("ops@example.com", is_staff=True)
    owner_api, clerk_api, staff_api = client_for(client, owner), client_for(client, clerk), client_for(client, staff)

    applied = owner_api.mutate(APPLY, {"kind": "PARTS_VENDOR", "slug": "chaoyang-parts", "input": {
        "nameZh": "朝阳汽配", "nameEn": "Chaoyang Auto Parts", "city": "北京市", "district": "朝阳区",
        "latitude": "39.921", "longitude": "116.443",
        "openingHours": {"mon": [["09:00", "18:00"]], "sat": [["10:00", "16:00"]]}}})
    assert applied["errors"] == [] and applied["vendor"]["status"] == "APPLIED"
    vendor_id = applied["vendor"]["id"]
    # Not visible to shoppers until approved; a member cannot approve.
    assert GraphQLClient(client).data('{ vendor(slug: "chaoyang-parts") { slug } }')["vendor"] is None
    assert owner_api.mutate(APPROVE, {"id": vendor_id})["errors"][0]["code"] == "PERMISSION_DENIED"
    approved = staff_api.mutate(APPROVE, {"id": vendor_id})
    assert approved["vendor"]["status"] == "APPROVED"
    warehouse_id = approved["vendor"]["warehouses"][0]["id"]

    invited = owner_api.mutate(INVITE, {"v": vendor_id, "e": clerk.email, "r": "STAFF"})
    assert invited == {"email": clerk.email, "role": "STAFF", "errors": []}
    message = wait_for(lambda: next((m for m in mail.outbox if m.to == [clerk.email]), None), message="invitation")
    token = re.search(r"token=([\w-]+)", message.body).group(1)
    # Staff may not invite; the invitation is for the clerk only.
    assert owner_api.mutate(ACCEPT, {"t": token})["errors"][0]["code"] == "PERMISSION_DENIED"
    accepted = clerk_api.mutate(ACCEPT, {"t": token})
    assert accepted == {"vendor": {"slug": "chaoyang-parts"}, "role": "STAFF", "errors": []}
    assert clerk_api.mutate(INVITE, {"v": vendor_id, "e": "x@example.com", "r": "STAFF"})["errors"][0]["code"] == "PERMISSION_DENIED"

    product = clerk_api.mutate(PRODUCT_CREATE, {"v": vendor_id, "i": {
        "nameZh": "卡罗拉前刹车片", "nameEn": "Corolla front brake pads", "slug": "corolla-front-pads",
        "category": gid("Category", taxonomy.pads.pk), "productType": gid("ProductType", taxonomy.part.pk),
        "brand": gid("Brand", taxonomy.bosch.pk), "status": "PUBLISHED"}})
    assert product["errors"] == []
    variant = clerk_api.mutate(VARIANT_CREATE, {"p": product["product"]["id"], "i": {"sku": "BP-0446502220", "listPrice": "268.00"}})
    assert variant["errors"] == []
    stocked = clerk_api.mutate(STOCK_SET, {"v": variant["variant"]["id"], "w": warehouse_id, "q": 12})
    assert stocked == {"variant": {"available": 12, "inStock": True}, "errors": []}

    listing = GraphQLClient(client).data(LISTING)["products"]
    assert listing["totalCount"] == 1
    node = listing["edges"][0]["node"]
    assert node["vendor"]["slug"] == "chaoyang-parts"
    assert node["variants"] == [{"sku": "BP-0446502220", "available": 12, "price": {"final": {"amount": "268.00"}}}]

    # Suspension hides the vendor's products from every listing at once.
    assert staff_api.mutate(SUSPEND, {"id": vendor_id, "r": ""})["errors"] == [{"field": "reason", "code": "REQUIRED"}]
    assert staff_api.mutate(SUSPEND, {"id": vendor_id, "r": "Counterfeit complaints"})["vendor"]["status"] == "SUSPENDED"
    assert GraphQLClient(client).data(LISTING)["products"]["totalCount"] == 0
    assert GraphQLClient(client).data('{ product(vendorSlug: "chaoyang-parts", slug: "corolla-front-pads") { slug } }')["product"] is None
    # ... but its own staff still see their catalog.
    mine = clerk_api.data('query($v: ID!) { vendorProducts(vendorId: $v) { totalCount } }', {"v": vendor_id})
    assert mine["vendorProducts"]["totalCount"] == 1


@pytest.mark.django_db
def test_application_validation(member_gql, make_vendor):
    make_vendor("taken")
    bad = member_gql.mutate(APPLY, {"kind": "DEALER", "slug": "Bad Slug!", "input": {"nameZh": ""}})
    assert {(e["field"], e["code"]) for e in bad["errors"]} == {("slug", "INVALID")}
    taken = member_gql.mutate(APPLY, {"kind": "DEALER", "slug": "taken", "input": {"nameZh": "x"}})
    assert taken["errors"] == [{"field": "slug", "code": "UNIQUE", "message": "This slug is taken."}]
    bad_profile = member_gql.mutate(APPLY, {"kind": "REPAIR_SHOP", "slug": "fine", "input": {
        "nameZh": "", "latitude": "123", "openingHours": {"mon": [["18:00", "09:00"]]}}})
    assert {e["field"] for e in bad_profile["errors"]} == {"nameZh", "latitude", "openingHours"}
    ok = member_gql.mutate(APPLY, {"kind": "REPAIR_SHOP", "slug": "fine", "input": {"nameZh": "好修理厂"}})
    assert ok["errors"] == []
    twice = member_gql.mutate(APPLY, {"kind": "REPAIR_SHOP", "slug": "fine-2", "input": {"nameZh": "又一家"}})
    assert twice["errors"][0]["code"] == "INVALID_STATE"


@pytest.mark.django_db
def test_lifecycle_transitions_are_checked(staff_gql, make_vendor):
    vendor = make_vendor("shop", approve=False)
    reject = "mutation($id: ID!) { vendorReject(id: $id, reason: \"Incomplete licence\") { vendor { status } errors { code } } }"
    assert staff_gql.mutate(reject, {"id": gid("Vendor", vendor.pk)})["vendor"]["status"] == "REJECTED"
    assert staff_gql.mutate(APPROVE, {"id": gid("Vendor", vendor.pk)})["errors"][0]["code"] == "INVALID_STATE"
    other = make_vendor("other")
    suspended = staff_gql.mutate(SUSPEND, {"id": gid("Vendor", other.pk), "r": "Audit"})
    assert suspended["vendor"]["status"] == "SUSPENDED"
    assert staff_gql.mutate(APPROVE, {"id": gid("Vendor", other.pk)})["vendor"]["status"] == "APPROVED"


@pytest.mark.django_db
def test_staff_only_vendor_fields_are_hidden(client, make_vendor):
    vendor = make_vendor("private-bits")
    public = GraphQLClient(client).data('{ vendor(slug: "private-bits") { slug warehouses { name } commissionRate staff { email } } }')
    assert public["vendor"] == {"slug": "private-bits", "warehouses": None, "commissionRate": None, "staff": None}
    owner = client_for(client, vendor.owner)
    mine = owner.data('{ vendor(slug: "private-bits") { warehouses { name } staff { email role } } myVendors { slug } }')
    assert mine["vendor"]["staff"] == [{"email": vendor.owner.email, "role": "OWNER"}]
    assert mine["myVendors"] == [{"slug": "private-bits"}]


@pytest.mark.django_db
def test_vendor_scoped_plugin_configuration(client, make_vendor, staff_gql):
    vendor = make_vendor("scoped")
    other = make_vendor("not-mine")
    owner = client_for(client, vendor.owner)
    update = """mutation($v: ID) { pluginUpdate(name: "stripe", vendorId: $v, input: {active: false}) {
                  errors { field code } } }"""
    # stripe is platform-only; another vendor's scope is forbidden; platform scope is staff-only.
    assert owner.mutate(update, {"v": gid("Vendor", vendor.pk)})["errors"] == [{"field": "vendorId", "code": "INVALID"}]
    assert owner.mutate(update, {"v": gid("Vendor", other.pk)})["errors"][0]["code"] == "PERMISSION_DENIED"
    assert owner.mutate(update, {"v": None})["errors"][0]["code"] == "PERMISSION_DENIED"
