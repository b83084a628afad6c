"""`me.roles` tells vendor staff that they are (issue 16): the platform-wide summary in
`roles`, and each vendor with the role held there in `vendorRoles`."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import GraphQLClient

ME = "{ me { email roles vendorRoles { role vendor { slug status } } } }"
APPLY = """mutation($slug: String!) { vendorApply(kind: REPAIR_SHOP, slug: $slug, input: {nameZh: "望京快修"}) {
  vendor { id } errors { field code } } }"""


@pytest.mark.django_db
def test_a_vendor_owner_sees_that_they_own_their_vendor(client, make_user, make_vendor, staff_gql):
    from marketplace.vendors.models import VendorStaff

    owner = make_user("owner@wangjing.example.com")
    api = GraphQLClient(client)
    api.login(owner.email)
    assert api.data(ME)["me"] == {"email": owner.email, "roles": ["MEMBER"], "vendorRoles": []}

    # Applying makes the member the owner of a vendor under review: me says so at once.
    applied = api.mutate(APPLY, {"slug": "wangjing-quick"})
    assert applied["errors"] == []
    me = api.data(ME)["me"]
    assert me["roles"] == ["MEMBER", "VENDOR_OWNER"]
    assert me["vendorRoles"] == [{"role": "OWNER", "vendor": {"slug": "wangjing-quick", "status": "APPLIED"}}]

    # A manager elsewhere too: one entry per vendor, each with its own role.
    other = make_vendor("lugu-repair", kind="repair_shop")
    VendorStaff.objects.create(vendor=other, user=owner, role="manager")
    me = api.data(ME)["me"]
    assert me["roles"] == ["MEMBER", "VENDOR_OWNER", "VENDOR_MANAGER"]
    assert me["vendorRoles"] == [
        {"role": "OWNER", "vendor": {"slug": "wangjing-quick", "status": "APPLIED"}},
        {"role": "MANAGER", "vendor": {"slug": "lugu-repair", "status": "APPROVED"}},
    ]
    # Platform staff keep their own summary; the demo's vendor owners are the same kind of user.
    assert staff_gql.data(ME)["me"]["roles"] == ["MEMBER", "PLATFORM_STAFF"]


@pytest.mark.django_db
def test_roles_in_the_users_listing_cost_constant_queries(staff_gql, make_user, make_vendor):
    from marketplace.vendors.models import VendorStaff

    query = "{ users(first: 60) { edges { node { email roles vendorRoles { role vendor { slug } } } } } }"

    def run():
        with CaptureQueriesContext(connection) as ctx:
            data = staff_gql.data(query)
        return data, len(ctx.captured_queries)

    make_vendor("v0")
    _small, small_count = run()
    for i in range(1, 12):
        vendor = make_vendor(f"v{i}")
        VendorStaff.objects.create(vendor=vendor, user=make_user(f"clerk{i}@example.com"), role="staff")
    big, big_count = run()
    assert big_count == small_count
    rows = {e["node"]["email"]: e["node"] for e in big["users"]["edges"]}
    assert rows["clerk5@example.com"]["roles"] == ["MEMBER", "VENDOR_STAFF"]
    assert rows["clerk5@example.com"]["vendorRoles"] == [{"role": "STAFF", "vendor": {"slug": "v5"}}]
    assert rows["owner@v5.example.com"]["vendorRoles"] == [{"role": "OWNER", "vendor": {"slug": "v5"}}]
