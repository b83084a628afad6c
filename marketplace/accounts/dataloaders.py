from django.apps import apps

from marketplace.api.dataloaders import DataLoader, group_by

from .models import Address


class AddressesByUserIdLoader(DataLoader):
    def batch_load(self, user_ids):
        grouped = group_by(Address.objects.filter(user_id__in=user_ids).order_by("pk"), lambda a: a.user_id)
        return [grouped.get(user_id, []) for user_id in user_ids]


class VendorMembershipsByUserIdLoader(DataLoader):
    """A user's vendor memberships (VendorStaff rows with their vendor), by vendor id. The
    model is looked up by label: accounts sits below the vendors app and never imports it."""

    def batch_load(self, user_ids):
        staff = apps.get_model("vendors", "VendorStaff")
        rows = staff.objects.filter(user_id__in=user_ids).select_related("vendor").order_by("vendor_id")
        grouped = group_by(rows, lambda m: m.user_id)
        return [grouped.get(user_id, []) for user_id in user_ids]
