"""Every admin page platform operators use renders."""
import pytest
from django.contrib import admin
from django.urls import reverse


@pytest.mark.django_db
def test_every_admin_changelist_and_add_page_renders(client, make_user, make_vendor, make_product):
    vendor = make_vendor("admin-shop")
    make_product(vendor, "admin-product")
    superuser = make_user("root@example.com", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        response = client.get(reverse("admin:%s_%s_changelist" % info))
        assert response.status_code == 200, info
        if model_admin.has_add_permission(type("R", (), {"user": superuser})()):
            assert client.get(reverse("admin:%s_%s_add" % info)).status_code == 200, info
        first = model._default_manager.first()
        if first is not None:
            assert client.get(reverse("admin:%s_%s_change" % info, args=[first.pk])).status_code == 200, info
