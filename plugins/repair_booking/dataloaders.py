"""Per-request batching, so listings of bookings cost a constant number of queries."""
from marketplace.plugins.graphql import DataLoader, group_by


class ExtraWorkByBookingLoader(DataLoader):
    def batch_load(self, keys):
        from .models import RepairExtraWork

        grouped = group_by(RepairExtraWork.objects.filter(booking_id__in=keys).order_by("pk"), lambda w: w.booking_id)
        return [grouped.get(key, []) for key in keys]


class ShopByVendorLoader(DataLoader):
    def batch_load(self, keys):
        from .models import RepairShop

        found = {s.vendor_id: s for s in RepairShop.objects.select_related("vendor").filter(vendor_id__in=keys)}
        return [found.get(key) for key in keys]


class ServiceByVariantLoader(DataLoader):
    def batch_load(self, keys):
        from .lookups import service_variant_ids
        from .models import RepairService

        wanted = [k for k in keys if k in service_variant_ids()]
        found = {s.variant_id: s for s in RepairService.objects.select_related("shop", "variant__product").filter(
            variant_id__in=wanted)} \
            if wanted else {}
        return [found.get(key) for key in keys]


class BaysByShopLoader(DataLoader):
    def batch_load(self, keys):
        from .models import RepairBay

        grouped = group_by(RepairBay.objects.filter(shop_id__in=keys).order_by("pk"), lambda b: b.shop_id)
        return [grouped.get(key, []) for key in keys]


class ServicesByShopLoader(DataLoader):
    def batch_load(self, keys):
        from .models import RepairService

        grouped = group_by(RepairService.objects.filter(shop_id__in=keys).select_related(
            "shop", "variant__product").order_by("pk"),
                           lambda s: s.shop_id)
        return [grouped.get(key, []) for key in keys]


class RulesByShopLoader(DataLoader):
    def batch_load(self, keys):
        from .models import RepairOpeningRule

        grouped = group_by(RepairOpeningRule.objects.filter(shop_id__in=keys), lambda r: r.shop_id)
        return [grouped.get(key, []) for key in keys]


class ExceptionsByShopLoader(DataLoader):
    def batch_load(self, keys):
        from .models import RepairDateException

        grouped = group_by(RepairDateException.objects.filter(shop_id__in=keys), lambda e: e.shop_id)
        return [grouped.get(key, []) for key in keys]


class RatesByShopLoader(DataLoader):
    def batch_load(self, keys):
        from .models import RepairCategoryRate

        grouped = group_by(RepairCategoryRate.objects.filter(shop_id__in=keys), lambda r: r.shop_id)
        return [grouped.get(key, []) for key in keys]
