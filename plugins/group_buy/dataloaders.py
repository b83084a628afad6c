"""Per-request batching: one query per field across a page (no N+1)."""
from marketplace.plugins.graphql import DataLoader, group_by

from .models import ACTIVE_MEMBER, Group, GroupStatus, Member, RefundTrack, Voucher


def deal_related(prefix):
    """The select_related paths that load a deal with what its GraphQL type shows."""
    return [f"{prefix}__vendor", f"{prefix}__product", f"{prefix}__variant__product"]


GROUP_RELATED = ["leader", *deal_related("deal")]
MEMBER_RELATED = ["user", "order", "group__leader", *deal_related("group__deal"), *deal_related("deal")]


class DealBadgeByProductIdLoader(DataLoader):
    """The open deal with the lowest price of each product (or None)."""

    def batch_load(self, keys):
        from .search import open_deals

        found = open_deals(keys)
        return [found.get(key) for key in keys]


class OpenGroupsByDealIdLoader(DataLoader):
    """Forming groups with free seats of each deal, closing soonest first (at most 20)."""

    def batch_load(self, keys):
        from marketplace.plugins import clock

        groups = open_groups_queryset(clock.now()).filter(deal_id__in=keys).order_by("expires_at", "pk")
        grouped = group_by(groups, lambda g: g.deal_id)
        return [grouped.get(key, [])[:20] for key in keys]


def open_groups_queryset(now):
    from django.db.models import F

    return Group.objects.filter(status=GroupStatus.FORMING, expires_at__gt=now,
                                paid_count__lt=F("size") - F("held_count")).select_related(*GROUP_RELATED)


class MembersByGroupIdLoader(DataLoader):
    def batch_load(self, keys):
        members = Member.objects.filter(group_id__in=keys).select_related(*MEMBER_RELATED).order_by("pk")
        grouped = group_by(members, lambda m: m.group_id)
        return [grouped.get(key, []) for key in keys]


class ActiveMemberUsersByGroupIdLoader(DataLoader):
    """{user ids} of each group's members holding or owning a seat."""

    def batch_load(self, keys):
        rows = Member.objects.filter(group_id__in=keys, status__in=ACTIVE_MEMBER).values_list("group_id", "user_id")
        grouped = group_by(rows, lambda row: row[0])
        return [{user for _g, user in grouped.get(key, [])} for key in keys]


class VouchersByMemberIdLoader(DataLoader):
    def batch_load(self, keys):
        grouped = group_by(Voucher.objects.filter(member_id__in=keys).select_related(*deal_related("deal"))
                           .order_by("pk"), lambda v: v.member_id)
        return [grouped.get(key, []) for key in keys]


class RefundByMemberIdLoader(DataLoader):
    """The member's refund (not a voucher's): the latest track."""

    def batch_load(self, keys):
        tracks = RefundTrack.objects.filter(member_id__in=keys, voucher__isnull=True).order_by("pk")
        latest = {track.member_id: track for track in tracks}
        return [latest.get(key) for key in keys]


class RefundByVoucherIdLoader(DataLoader):
    def batch_load(self, keys):
        found = {t.voucher_id: t for t in RefundTrack.objects.filter(voucher_id__in=keys)}
        return [found.get(key) for key in keys]
