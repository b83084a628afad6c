"""Per-request batching for `Membership` fields, so a staff listing of many memberships
costs a constant number of queries."""
from marketplace.plugins.graphql import DataLoader, group_by

from .models import EFFECTIVE, BenefitUse, Membership


class UsageByMembershipLoader(DataLoader):
    """Keys: membership ids -> `services.benefits.Usage`."""

    def batch_load(self, keys):
        from .services.benefits import usage_by_membership

        found = usage_by_membership(keys)
        return [found[key] for key in keys]


class BenefitUsesByMembershipLoader(DataLoader):
    """Keys: membership ids -> the uses not released, oldest first."""

    def batch_load(self, keys):
        uses = BenefitUse.objects.filter(membership_id__in=keys, released_at__isnull=True).order_by("pk")
        grouped = group_by(uses, lambda use: use.membership_id)
        return [grouped.get(key, []) for key in keys]


class RenewalLoader(DataLoader):
    """Keys: (membership id, user id, ends_at) -> the paid period scheduled after it."""

    def batch_load(self, keys):
        users = {user_id for _pk, user_id, ends_at in keys if user_id is not None and ends_at is not None}
        rows = (Membership.objects.filter(user_id__in=users, status__in=EFFECTIVE).select_related("plan")
                .order_by("starts_at")) if users else []
        by_user = group_by(rows, lambda m: m.user_id)
        result = []
        for pk, user_id, ends_at in keys:
            later = [m for m in by_user.get(user_id, []) if ends_at is not None and m.pk != pk
                     and m.starts_at >= ends_at]
            result.append(later[0] if later else None)
        return result


class EmailByUserLoader(DataLoader):
    def batch_load(self, keys):
        from marketplace.plugins.accounts import user_emails

        found = user_emails([key for key in keys if key is not None])
        return [found.get(key) for key in keys]
