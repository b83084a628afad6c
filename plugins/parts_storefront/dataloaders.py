from marketplace.plugins.graphql import DataLoader, group_by

from .models import Fitment, PartNumber


class VehiclesByVariantIdLoader(DataLoader):
    """The vehicles each variant fits, with model and make: one query per batch."""

    def batch_load(self, keys):
        fitments = (Fitment.objects.filter(variant_id__in=keys).select_related("vehicle__model__make")
                    .order_by("vehicle__model__make__name_en", "vehicle__model__name_en", "vehicle__year_from", "pk"))
        grouped = group_by(fitments, lambda f: f.variant_id)
        return [[f.vehicle for f in grouped.get(key, [])] for key in keys]


class PartNumbersByVariantIdLoader(DataLoader):
    def batch_load(self, keys):
        grouped = group_by(PartNumber.objects.filter(variant_id__in=keys).order_by("pk"), lambda p: p.variant_id)
        return [grouped.get(key, []) for key in keys]
