"""Mutations: thin; each declares its policy and calls one service."""
import graphene

from marketplace.plugins.graphql import (
    BaseMutation, CheckoutType, Money, OrderType, VendorType, decode_id, enum_value, money, permissions, vendor_role,
)
from marketplace.plugins.vendors import ANY_STAFF, MANAGERS

from .. import deals, refunds, seats, settlement, vouchers
from .types import AlertNode, DealKindEnum, GroupDealNode, GroupNode, VoucherNode


def _deal_vendor(deal):
    return deal.vendor_id


def _user_id(info):
    return permissions.current_user(info).pk


# -- vendors --------------------------------------------------------------------------------------
class GroupDealInput(graphene.InputObjectType):
    kind = DealKindEnum(description="Default GOODS.")
    deal_price = graphene.Decimal(description="CNY, two decimals; at or above the platform floor of the list price.")
    group_size = graphene.Int(description="2 to 50 members (1 to 50 for a voucher deal).")
    window_hours = graphene.Int(description="How long a group has to fill; default the vendor's setting (24).")
    starts_at = graphene.DateTime()
    ends_at = graphene.DateTime(description="No group outlives the deal.")
    max_units = graphene.Int(description="Units sold through the deal at most (the stock set aside).")
    max_per_member = graphene.Int(description="Units one member may buy in a group (default 1).")
    per_user_limit = graphene.Int(description="Groups one member may take part in (default 1).")
    new_customers_only = graphene.Boolean(description="Only members who never bought at this shop.")
    voucher_valid_days = graphene.Int(description="Voucher deals: days a voucher stays valid.")
    title_zh = graphene.String()
    title_en = graphene.String()


def _values(data):
    values = {key: value for key, value in data.items() if value is not None}
    if "kind" in values:
        values["kind"] = enum_value(values["kind"])
    return values


class GroupDealCreate(BaseMutation):
    """A vendor's manager drafts a deal for one of its variants (submit it for review)."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    deal = graphene.Field(GroupDealNode)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        variant_id = graphene.ID(required=True)
        input = GroupDealInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, variant_id, input):
        from marketplace.plugins import ErrorCode, MarketplaceError, ValidationError
        from marketplace.plugins.graphql import ProductVariantNode

        values = _values(input)
        missing = [name for name in ("deal_price", "group_size", "starts_at", "ends_at", "max_units")
                   if name not in values]
        if missing:
            raise ValidationError(errors=[MarketplaceError("Required.", code=ErrorCode.REQUIRED, field=f"input.{name}")
                                          for name in missing])
        deal = deals.create_deal(vendor_id=int(decode_id(vendor_id, VendorType, field="vendor_id")),
                                 variant_id=int(decode_id(variant_id, ProductVariantNode, field="variant_id")),
                                 **values)
        return cls(deal=deal)


class GroupDealUpdate(BaseMutation):
    """Change a draft deal (its vendor's managers)."""

    permission = vendor_role(MANAGERS, vendor_from=_deal_vendor)
    lookup = ("id", GroupDealNode)
    deal = graphene.Field(GroupDealNode)

    class Arguments:
        id = graphene.ID(required=True)
        input = GroupDealInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(deal=deals.update_deal(deal_id=instance.pk, **_values(input)))


class GroupDealSubmit(BaseMutation):
    """Send a draft for platform review. A price below the floor is refused here, naming
    the least allowed price (INVALID on dealPrice)."""

    permission = vendor_role(MANAGERS, vendor_from=_deal_vendor)
    lookup = ("id", GroupDealNode)
    deal = graphene.Field(GroupDealNode)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(deal=deals.submit_deal(instance.pk))


class GroupDealCancel(BaseMutation):
    """Cancel a deal (its vendor's managers or platform staff): forming groups are
    dissolved and refunded; succeeded groups are fulfilled as usual."""

    permission = vendor_role(MANAGERS, vendor_from=_deal_vendor)
    lookup = ("id", GroupDealNode)
    deal = graphene.Field(GroupDealNode)

    class Arguments:
        id = graphene.ID(required=True)
        cancel_reason = graphene.String(required=True, description="Why (kept on the deal).")

    @classmethod
    def perform(cls, info, instance, id, cancel_reason):
        return cls(deal=settlement.cancel_deal(instance.pk, cancel_reason))


class GroupBuyVoucherVerify(BaseMutation):
    """Shop staff (any role) verify (核销) a voucher at their shop: once, before it expires,
    and only for their own vendor's deals (else PERMISSION_DENIED)."""

    permission = vendor_role(ANY_STAFF, vendor_from="vendor_id")
    text_not_stored = {"voucherCode": "a lookup (typed with spaces or hyphens)"}
    voucher = graphene.Field(VoucherNode)

    class Arguments:
        vendor_id = graphene.ID(required=True, description="The shop verifying it.")
        voucher_code = graphene.String(required=True, description="The 13 digits (spaces allowed).")

    @classmethod
    def perform(cls, info, vendor_id, voucher_code):
        return cls(voucher=vouchers.verify(code=voucher_code, user_id=_user_id(info),
                                           vendor_id=decode_id(vendor_id, VendorType, field="vendor_id")))


# -- platform staff ------------------------------------------------------------------------------------
class GroupDealApprove(BaseMutation):
    permission = permissions.platform_staff
    lookup = ("id", GroupDealNode)
    deal = graphene.Field(GroupDealNode)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(deal=deals.approve_deal(instance.pk, _user_id(info)))


class GroupDealReject(BaseMutation):
    permission = permissions.platform_staff
    lookup = ("id", GroupDealNode)
    deal = graphene.Field(GroupDealNode)

    class Arguments:
        id = graphene.ID(required=True)
        review_note = graphene.String(required=True, description="Why, for the vendor.")

    @classmethod
    def perform(cls, info, instance, id, review_note):
        return cls(deal=deals.reject_deal(instance.pk, review_note))


class GroupBuyGroupDissolve(BaseMutation):
    """Dissolve a forming group (e.g. scalpers): its members are refunded."""

    permission = permissions.platform_staff
    lookup = ("id", GroupNode)
    group = graphene.Field(GroupNode)

    class Arguments:
        id = graphene.ID(required=True)
        settle_reason = graphene.String(required=True, description="Why (kept on the group).")

    @classmethod
    def perform(cls, info, instance, id, settle_reason):
        return cls(group=settlement.dissolve(instance.pk, settle_reason))


class GroupBuyGroupSettle(BaseMutation):
    """Settle a group now by its paid seats (full: success, else failure), or resume a
    settled group's unfinished follow-up."""

    permission = permissions.platform_staff
    lookup = ("id", GroupNode)
    group = graphene.Field(GroupNode)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(group=settlement.force_settle(instance.pk))


class GroupBuyAlertResolve(BaseMutation):
    permission = permissions.platform_staff
    lookup = ("id", AlertNode)
    alert = graphene.Field(AlertNode)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(alert=refunds.resolve_alert(instance.pk, _user_id(info)))


# -- members ---------------------------------------------------------------------------------------------
class GroupBuyCheckout(BaseMutation):
    """Put a group deal into the member's cart: open a new group (`dealId`) or join one by
    `shareCode` or from the open-groups list (`groupId`). Then set the address and
    shipping as usual, `checkoutComplete`, and pay (`groupBuyPay`). The group (and its
    share code) exists once the leader has paid."""

    permission = permissions.self_service  # deals and groups are public; the cart is the caller's own
    text_not_stored = {"shareCode": "a lookup"}
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        deal_id = graphene.ID(description="Open a new group of this deal.")
        share_code = graphene.String(description="Join the group with this code.")
        group_id = graphene.ID(description="Join this group (from openGroups).")
        quantity = graphene.Int(default_value=1)

    @classmethod
    def perform(cls, info, deal_id=None, share_code=None, group_id=None, quantity=1):
        from marketplace.plugins import ValidationError

        given = [name for name, value in (("deal_id", deal_id), ("share_code", share_code), ("group_id", group_id))
                 if value is not None]
        if len(given) != 1:
            raise ValidationError("Give one of dealId, shareCode or groupId.", field="deal_id")
        checkout = seats.prepare_checkout(
            user=permissions.current_user(info),
            deal_id=int(decode_id(deal_id, GroupDealNode, field="deal_id")) if deal_id is not None else None,
            share_code=share_code,
            group_id=int(decode_id(group_id, GroupNode, field="group_id")) if group_id is not None else None,
            quantity=quantity)
        return cls(checkout=checkout)


class GroupBuyPaymentType(graphene.ObjectType):
    class Meta:
        name = "GroupBuyPayment"

    reference = graphene.String(required=True)
    status = graphene.String(required=True)
    capture_method = graphene.String(required=True, description='"manual" (authorised now, captured on success) '
                                                                'or "automatic" (captured now, refunded on failure).')
    amount = graphene.Field(Money, required=True)
    client_secret = graphene.String(description="For the payment form.")


PaymentMethod = graphene.Enum("GroupBuyPaymentMethod", [("CARD", "card"), ("WALLET", "wallet")])


class GroupBuyPay(BaseMutation):
    """Pay a group order: by card on a gateway that can capture later, the money is only
    authorised and captured when the group succeeds (else released); wallets (WeChat Pay,
    Alipay) are charged at once and refunded if the group fails."""

    permission = permissions.user_owned(lambda order: order.user_id, field="order_id")
    lookup = ("order_id", OrderType)
    text_not_stored = {"gateway": "a lookup"}
    payment = graphene.Field(GroupBuyPaymentType)

    class Arguments:
        order_id = graphene.ID(required=True)
        gateway = graphene.String(required=True, description='e.g. "stripe" or "dev"')
        method = PaymentMethod(default_value="card")

    @classmethod
    def perform(cls, info, instance, order_id, gateway, method="card"):
        started, capture_method = seats.start_payment(order_id=instance.pk, gateway=gateway,
                                                      wallet=enum_value(method) == "wallet")
        return cls(payment=GroupBuyPaymentType(
            reference=started.reference, status=started.status, client_secret=started.client_secret or None,
            capture_method=capture_method, amount=money(started.amount, started.currency)))


class GroupBuyVoucherRefund(BaseMutation):
    """随时退: refund an unused voucher. It shows REFUNDED only once the gateway confirms."""

    permission = permissions.user_owned(lambda voucher: voucher.user_id)
    lookup = ("id", VoucherNode)
    voucher = graphene.Field(VoucherNode)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(voucher=vouchers.request_refund(voucher_id=instance.pk, user_id=_user_id(info)))


class Mutation(graphene.ObjectType):
    group_deal_create = GroupDealCreate.Field()
    group_deal_update = GroupDealUpdate.Field()
    group_deal_submit = GroupDealSubmit.Field()
    group_deal_cancel = GroupDealCancel.Field()
    group_deal_approve = GroupDealApprove.Field()
    group_deal_reject = GroupDealReject.Field()
    group_buy_group_dissolve = GroupBuyGroupDissolve.Field()
    group_buy_group_settle = GroupBuyGroupSettle.Field()
    group_buy_alert_resolve = GroupBuyAlertResolve.Field()
    group_buy_voucher_verify = GroupBuyVoucherVerify.Field()
    group_buy_checkout = GroupBuyCheckout.Field()
    group_buy_pay = GroupBuyPay.Field()
    group_buy_voucher_refund = GroupBuyVoucherRefund.Field()


__all__ = ["Mutation"]
