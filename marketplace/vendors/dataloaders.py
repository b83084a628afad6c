from marketplace.api.dataloaders import DataLoader, group_by

from .models import Vendor, VendorStaff, Warehouse


class VendorByIdLoader(DataLoader):
    def batch_load(self, keys):
        vendors = Vendor.objects.in_bulk(keys)
        return [vendors.get(key) for key in keys]


class WarehousesByVendorIdLoader(DataLoader):
    def batch_load(self, keys):
        grouped = group_by(Warehouse.objects.filter(vendor_id__in=keys), lambda w: w.vendor_id)
        return [grouped.get(key, []) for key in keys]


class StaffByVendorIdLoader(DataLoader):
    def batch_load(self, keys):
        staff = VendorStaff.objects.filter(vendor_id__in=keys).select_related("user").order_by("pk")
        grouped = group_by(staff, lambda member: member.vendor_id)
        return [grouped.get(key, []) for key in keys]
