from django.db.models import Count

from marketplace.plugins.catalog import visible_products
from marketplace.plugins.graphql import DataLoader, group_by

from .models import AccessOverride, BillingInvoice


class InvoicesBySubscriptionLoader(DataLoader):
    """A subscription's invoices, newest first: one query per batch."""

    def batch_load(self, keys):
        grouped = group_by(BillingInvoice.objects.filter(subscription_id__in=keys).order_by("-pk"),
                           lambda i: i.subscription_id)
        return [grouped.get(key, []) for key in keys]


class OverrideByVendorLoader(DataLoader):
    def batch_load(self, keys):
        found = {o.vendor_id: o for o in AccessOverride.objects.filter(vendor_id__in=keys)}
        return [found.get(key) for key in keys]


class PublishedCountByVendorLoader(DataLoader):
    """Products a vendor lists now (what the quota counts)."""

    def batch_load(self, keys):
        counts = dict(visible_products().filter(vendor_id__in=keys).values("vendor_id").annotate(n=Count("pk"))
                      .values_list("vendor_id", "n"))
        return [counts.get(key, 0) for key in keys]
