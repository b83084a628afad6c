"""Per-request batching for order types: one query per relation for a whole page."""
from marketplace.api.dataloaders import DataLoader, group_by
from marketplace.payments.models import Payment

from .models import OrderLine, VendorOrder


class _GroupedLoader(DataLoader):
    """Rows of `queryset(keys)` grouped by `key_field`, in key order."""

    key_field = None

    def queryset(self, keys):
        raise NotImplementedError

    def batch_load(self, keys):
        grouped = group_by(self.queryset(keys), lambda row: getattr(row, self.key_field))
        return [grouped.get(key, []) for key in keys]


class VendorOrdersByOrderIdLoader(_GroupedLoader):
    key_field = "order_id"

    def queryset(self, keys):
        return VendorOrder.objects.filter(order_id__in=keys).select_related("vendor", "order").order_by("pk")


class PaymentsByOrderIdLoader(_GroupedLoader):
    key_field = "order_id"

    def queryset(self, keys):
        return Payment.objects.filter(order_id__in=keys).order_by("pk")


class LinesByVendorOrderIdLoader(_GroupedLoader):
    key_field = "vendor_order_id"

    def queryset(self, keys):
        return OrderLine.objects.filter(vendor_order_id__in=keys).order_by("pk")


class RefundsByVendorOrderIdLoader(_GroupedLoader):
    key_field = "vendor_order_id"

    def queryset(self, keys):
        from marketplace.payments.models import Refund

        return Refund.objects.filter(vendor_order_id__in=keys).select_related("payment").order_by("pk")
