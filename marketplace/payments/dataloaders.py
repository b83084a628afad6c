"""Per-request batching for payment types."""
from marketplace.api.dataloaders import DataLoader, group_by

from .models import Refund


class RefundsByPaymentIdLoader(DataLoader):
    def batch_load(self, keys):
        grouped = group_by(Refund.objects.filter(payment_id__in=keys).select_related("payment").order_by("pk"),
                           lambda refund: refund.payment_id)
        return [grouped.get(key, []) for key in keys]
