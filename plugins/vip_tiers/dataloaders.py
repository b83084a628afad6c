"""Per-request batching, so every list and connection of the plugin costs a constant number
of queries whatever its length."""
from datetime import timedelta

from marketplace.plugins import clock
from marketplace.plugins.graphql import DataLoader, group_by

from .models import VipAccount, VipProgram, VipTier


class TiersByProgramLoader(DataLoader):
    """Keys: programme ids -> their tiers, by rank."""

    def batch_load(self, keys):
        grouped = group_by(VipTier.objects.filter(program_id__in=keys).order_by("rank"), lambda t: t.program_id)
        return [grouped.get(key, []) for key in keys]


class TiersByVendorLoader(DataLoader):
    """Keys: vendor ids -> the tiers of the store's programme, by rank."""

    def batch_load(self, keys):
        rows = VipTier.objects.filter(program__vendor_id__in=keys).select_related("program").order_by("rank")
        grouped = group_by(rows, lambda t: t.program.vendor_id)
        return [grouped.get(key, []) for key in keys]


class TierLoader(DataLoader):
    def batch_load(self, keys):
        found = VipTier.objects.in_bulk([k for k in keys if k is not None])
        return [found.get(key) for key in keys]


class ProgramByVendorLoader(DataLoader):
    """Keys: vendor ids -> the store's VipProgram (None: it never set one up)."""

    def batch_load(self, keys):
        found = VipProgram.objects.in_bulk(keys, field_name="vendor_id")
        return [found.get(key) for key in keys]


class ContactLoader(DataLoader):
    """Keys: user ids -> `ContactInfo` (or None)."""

    def batch_load(self, keys):
        from marketplace.plugins.accounts import contacts

        found = contacts([k for k in keys if k is not None])
        return [found.get(key) for key in keys]


class StatsLoader(DataLoader):
    """Keys: (vendor id, user id) -> the customer's last-12-months `CustomerStats` at the
    store (or None): one query per store in the batch."""

    def batch_load(self, keys):
        from marketplace.plugins.orders import customer_stats

        since = clock.now() - timedelta(days=365)
        by_vendor = group_by(keys, lambda key: key[0])
        found = {}
        for vendor_id, pairs in by_vendor.items():
            for user_id, stats in customer_stats(vendor_id, since=since, user_ids=[u for _v, u in pairs]).items():
                found[(vendor_id, user_id)] = stats
        return [found.get(key) for key in keys]


class AccountLoader(DataLoader):
    """Keys: (vendor id, user id) -> the VipAccount (tier loaded) or None."""

    def batch_load(self, keys):
        vendors = {v for v, _u in keys}
        users = {u for _v, u in keys}
        rows = VipAccount.objects.select_related("tier").filter(vendor_id__in=vendors, user_id__in=users)
        found = {(a.vendor_id, a.user_id): a for a in rows}
        return [found.get(key) for key in keys]
