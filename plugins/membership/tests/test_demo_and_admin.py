"""The demo data (`populatedb` loads this plugin's demo through fixtures/demo.py) and the
admin pages platform operators use, including the partner report download."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from marketplace.plugins.testing import GraphQLClient


@pytest.mark.django_db
def test_populatedb_loads_the_plan_partners_codes_and_a_demo_member(client):
    from plugins.membership.models import Membership, MembershipPlan, Partner, PartnerCode

    out = StringIO()
    call_command("populatedb", stdout=out)
    assert "membership: the 168.00 CNY annual plan, 2 partners with 3 codes" in out.getvalue()
    counts = [m.objects.count() for m in (MembershipPlan, Partner, PartnerCode, Membership)]
    assert counts == [1, 2, 3, 1]
    call_command("populatedb", stdout=StringIO())
    assert [m.objects.count() for m in (MembershipPlan, Partner, PartnerCode, Membership)] == counts  # idempotent
    assert set(Partner.objects.values_list("kind", flat=True)) == {"driving_school"}

    api = GraphQLClient(client)
    api.login("member@demo.marketplace", "demo-pass-2026")
    mine = api.data("{ myMembership { status plan { code price { amount } } } }")["myMembership"]
    assert mine == {"status": "ACTIVE", "plan": {"code": "annual", "price": {"amount": "168.00"}}}
    listing = api.data("{ products(first: 5) { edges { node { variants { price { adjustments { source } } } } } } }")
    sources = {a["source"] for e in listing["products"]["edges"] for v in e["node"]["variants"]
               for a in v["price"]["adjustments"]}
    assert "membership" in sources  # the demo member sees member prices

    other = GraphQLClient(client.__class__())
    other.login("member.en@demo.marketplace", "demo-pass-2026")
    token = other.mutate('mutation { checkoutCreate { checkout { token } errors { code } } }')["checkout"]["token"]
    applied = other.mutate("""mutation($t: UUID!) { partnerCodeApply(token: $t, code: "dfss-2026") {
      discount { amount } errors { field code } } }""", {"t": token})
    assert applied == {"discount": {"amount": "84.00"}, "errors": []}


@pytest.mark.django_db
def test_membership_admin_pages_render_and_export_the_partner_report(client, make_user, plan, make_code):
    from plugins.membership.models import CodeRedemption, Membership, MembershipPlan, Partner, PartnerCode
    from plugins.membership.services import memberships

    make_code("ADMIN-1")
    memberships.grant(make_user("m@example.com").pk, "annual", "admin test")
    root = make_user("root@example.com", is_staff=True, is_superuser=True)
    client.force_login(root)
    for model in (MembershipPlan, Membership, Partner, PartnerCode, CodeRedemption):
        info = (model._meta.app_label, model._meta.model_name)
        assert client.get(reverse("admin:%s_%s_changelist" % info)).status_code == 200, info
        first = model.objects.first()
        if first is not None:
            assert client.get(reverse("admin:%s_%s_change" % info, args=[first.pk])).status_code == 200, info
    response = client.post(reverse("admin:membership_partner_changelist"),
                           {"action": "partner_report_csv", "_selected_action": [Partner.objects.get().pk]})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("month,partner_id,partner,redemptions")
