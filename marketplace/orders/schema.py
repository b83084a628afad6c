"""GraphQL of orders, sub-orders, fulfilment, refunds and the ledger: thin; reads here,
writes through services. Payment types and mutations live in marketplace/payments/schema.py."""
import graphene
from graphene.types.generic import GenericScalar
from graphene import relay
from graphene_django import DjangoObjectType

from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import ConnectionField, CountableConnection
from marketplace.api.types import decode_id, enum_value
from marketplace.core import permissions
from marketplace.core.errors import NotFound
from marketplace.pricing.schema import Money, money
from marketplace.vendors.permissions import ANY_STAFF, MANAGERS, has_vendor_role, require_vendor_role, vendor_role
from marketplace.vendors.schema import VendorType

from . import ledger, services
from .dataloaders import (
    LinesByVendorOrderIdLoader, PaymentsByOrderIdLoader, RefundsByVendorOrderIdLoader, VendorOrdersByOrderIdLoader,
)
from .models import LedgerEntry, Order, OrderLine, VendorOrder

OrderStatusEnum = graphene.Enum("OrderStatus", [(s.upper(), s) for s in
                                                ("unpaid", "paid", "partially_fulfilled", "fulfilled", "completed",
                                                 "cancelled", "refunded")])
VendorOrderStatusEnum = graphene.Enum("VendorOrderStatus", [(s.upper(), s) for s in
                                                            ("unpaid", "paid", "fulfilled", "completed", "cancelled",
                                                             "refunded")])


class OrderLineType(DjangoObjectType):
    kind = graphene.String(required=True, description='"product", or the plugin line kind (e.g. "membership").')
    unit_price = graphene.Field(Money, required=True)
    unit_list_price = graphene.Field(Money, required=True)
    discount = graphene.Field(Money, required=True, description="Order-level discount allocated to this line.")
    total = graphene.Field(Money, required=True, description="unit price x quantity - discount")
    tendered = graphene.Field(Money, required=True, description="Paid by tenders (points, store credit).")
    price_explanation = graphene.JSONString(required=True)
    metadata = GenericScalar(required=True, description="Plugin data carried from the cart line.")
    fulfilled = graphene.Boolean(required=True)

    class Meta:
        model = OrderLine
        name = "OrderLine"
        fields = ("product_name", "sku", "quantity", "reference", "requires_shipping", "fulfilled_at")

    @staticmethod
    def _currency(root):
        return root.vendor_order.order.currency if "vendor_order" in root._state.fields_cache else "CNY"

    @staticmethod
    def resolve_unit_price(root, info):
        return money(root.unit_price, OrderLineType._currency(root))

    @staticmethod
    def resolve_unit_list_price(root, info):
        return money(root.unit_list_price, OrderLineType._currency(root))

    @staticmethod
    def resolve_discount(root, info):
        return money(root.discount, OrderLineType._currency(root))

    @staticmethod
    def resolve_total(root, info):
        return money(root.total, OrderLineType._currency(root))

    @staticmethod
    def resolve_tendered(root, info):
        return money(root.tendered, OrderLineType._currency(root))

    @staticmethod
    def resolve_fulfilled(root, info):
        return root.fulfilled_at is not None


class VendorOrderType(DjangoObjectType):
    """One seller's part of an order. Vendor staff see these, never the whole order."""

    status = graphene.Field(VendorOrderStatusEnum, required=True)
    vendor = graphene.Field(VendorType, description="The seller; null for the platform's own lines.")
    order_number = graphene.String(required=True)
    customer_email = graphene.String(required=True)
    shipping_address = graphene.JSONString()
    lines = graphene.List(graphene.NonNull(OrderLineType), required=True)
    subtotal = graphene.Field(Money, required=True)
    discount = graphene.Field(Money, required=True)
    shipping = graphene.Field(Money, required=True)
    total = graphene.Field(Money, required=True)
    tendered = graphene.Field(Money, required=True)
    refunded = graphene.Field(Money, required=True)
    commission = graphene.Field(Money, required=True)
    on_hold = graphene.Boolean(required=True, description="Paid but not fulfillable yet (e.g. a forming group).")
    order_id = graphene.ID(required=True, description="The whole Order's global ID (for `orderRefund`); reading "
                                                       "the Order itself stays the buyer's and platform staff's.")
    refunds = graphene.List(graphene.NonNull("marketplace.payments.schema.RefundType"), required=True,
                            description="Money returned on this sub-order, oldest first.")

    class Meta:
        model = VendorOrder
        name = "VendorOrder"
        interfaces = (relay.Node,)
        fields = ("shipping_method_name", "carrier", "tracking_number", "fulfilled_at", "commission_rate",
                  "hold_reason")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        vendor_order = VendorOrder.objects.select_related("order").filter(pk=id).first()
        if vendor_order and (_may_see_order(info, vendor_order.order) or (
                vendor_order.vendor_id is not None
                and has_vendor_role(permissions.current_user(info), vendor_order.vendor_id))):
            return vendor_order
        return None

    @staticmethod
    def resolve_status(root, info):
        return enum_value(root.status)

    @staticmethod
    def resolve_vendor(root, info):
        return root.vendor

    @staticmethod
    def resolve_order_number(root, info):
        return root.order.number

    @staticmethod
    def resolve_order_id(root, info):
        return relay.Node.to_global_id("Order", root.order_id)

    @staticmethod
    def resolve_refunds(root, info):
        return RefundsByVendorOrderIdLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_customer_email(root, info):
        return root.order.email

    @staticmethod
    def resolve_shipping_address(root, info):
        return root.order.shipping_address

    @staticmethod
    def resolve_lines(root, info):
        return LinesByVendorOrderIdLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_subtotal(root, info):
        return money(root.subtotal, root.order.currency)

    @staticmethod
    def resolve_discount(root, info):
        return money(root.discount, root.order.currency)

    @staticmethod
    def resolve_shipping(root, info):
        return money(root.shipping, root.order.currency)

    @staticmethod
    def resolve_total(root, info):
        return money(root.total, root.order.currency)

    @staticmethod
    def resolve_tendered(root, info):
        return money(root.tendered, root.order.currency)

    @staticmethod
    def resolve_refunded(root, info):
        return money(root.refunded, root.order.currency)

    @staticmethod
    def resolve_commission(root, info):
        return money(ledger.commission_for(root), root.order.currency)


class OrderType(DjangoObjectType):
    status = graphene.Field(OrderStatusEnum, required=True)
    vendor_orders = graphene.List(graphene.NonNull(VendorOrderType), required=True)
    payments = graphene.List(graphene.NonNull("marketplace.payments.schema.PaymentType"), required=True)
    subtotal = graphene.Field(Money, required=True)
    discount_total = graphene.Field(Money, required=True)
    shipping_total = graphene.Field(Money, required=True)
    total = graphene.Field(Money, required=True)
    tendered_total = graphene.Field(Money, required=True, description="Paid by tenders (points, store credit).")
    amount_due = graphene.Field(Money, required=True, description="What the gateway captures: total - tendered.")
    refunded_total = graphene.Field(Money, required=True)
    shipping_address = graphene.JSONString()
    metadata = GenericScalar(required=True)
    checkout_token = graphene.UUID(description="The cart's token, which `orderPaymentCreate` takes to pay the order "
                                               "later (only those who may read the order see it).")

    class Meta:
        model = Order
        name = "Order"
        interfaces = (relay.Node,)
        fields = ("number", "email", "created_at", "paid_at", "expires_at", "completed_at", "cancelled_at",
                  "cancel_reason")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        order = Order.objects.filter(pk=id).first()
        return order if order and _may_see_order(info, order) else None

    @staticmethod
    def resolve_status(root, info):
        return enum_value(root.status)

    @staticmethod
    def resolve_checkout_token(root, info):
        return root.checkout_token

    @staticmethod
    def resolve_vendor_orders(root, info):
        return VendorOrdersByOrderIdLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_payments(root, info):
        return PaymentsByOrderIdLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_subtotal(root, info):
        return money(root.subtotal, root.currency)

    @staticmethod
    def resolve_discount_total(root, info):
        return money(root.discount_total, root.currency)

    @staticmethod
    def resolve_shipping_total(root, info):
        return money(root.shipping_total, root.currency)

    @staticmethod
    def resolve_total(root, info):
        return money(root.total, root.currency)

    @staticmethod
    def resolve_tendered_total(root, info):
        return money(root.tendered_total, root.currency)

    @staticmethod
    def resolve_amount_due(root, info):
        return money(root.amount_due, root.currency)

    @staticmethod
    def resolve_refunded_total(root, info):
        return money(root.refunded_total, root.currency)

    @staticmethod
    def resolve_metadata(root, info):
        return root.metadata or {}


def _may_see_order(info, order):
    user = permissions.current_user(info)
    if not permissions.is_authenticated(user):
        return False
    return user.is_staff or order.user_id == user.pk


class LedgerEntryType(DjangoObjectType):
    amount = graphene.Field(Money, required=True)
    order_number = graphene.String()

    class Meta:
        model = LedgerEntry
        name = "LedgerEntry"
        interfaces = (relay.Node,)
        fields = ("booking", "kind", "account", "memo", "created_at")
        connection_class = CountableConnection
        convert_choices_to_enum = False

    @classmethod
    def get_node(cls, info, id):
        entry = LedgerEntry.objects.filter(pk=id).first()
        if entry is None:
            return None
        user = permissions.current_user(info)
        if entry.vendor_id is None:
            return entry if permissions.is_platform_staff(user) else None
        return entry if has_vendor_role(user, entry.vendor_id) else None

    @staticmethod
    def resolve_amount(root, info):
        return money(root.amount, root.currency)

    @staticmethod
    def resolve_order_number(root, info):
        return root.order.number if root.order_id else None


class VendorLedger(graphene.ObjectType):
    balance = graphene.Field(Money, required=True, description="What the platform owes the vendor.")
    commission_paid = graphene.Field(Money, required=True)
    entries = ConnectionField(LedgerEntryType)

    @staticmethod
    def resolve_entries(root, info, **kwargs):
        return (LedgerEntry.objects.filter(vendor_id=root.vendor_id, account="vendor_payable")
                .select_related("order").order_by("-pk"))


class Query(graphene.ObjectType):
    order = graphene.Field(OrderType, number=graphene.String(required=True), checkout_token=graphene.UUID(
        description="Lets an anonymous buyer read the order placed from that checkout."))
    my_orders = ConnectionField(OrderType, description="The signed-in member's orders, newest first.")
    orders = ConnectionField(OrderType, status=OrderStatusEnum(), description="All orders (platform staff).")
    vendor_orders = ConnectionField(VendorOrderType, vendor_id=graphene.ID(required=True),
                                    status=VendorOrderStatusEnum(), description="A vendor's sub-orders (its staff).")
    vendor_ledger = graphene.Field(VendorLedger, vendor_id=graphene.ID(required=True))

    @staticmethod
    def resolve_order(root, info, number, checkout_token=None):
        order = Order.objects.filter(number=number).first()
        if order is None:
            return None
        if checkout_token is not None and order.user_id is None and order.checkout_token == checkout_token:
            return order
        return order if _may_see_order(info, order) else None

    @staticmethod
    @permissions.login_required
    def resolve_my_orders(root, info, **kwargs):
        return Order.objects.filter(user=permissions.current_user(info)).order_by("-pk")

    @staticmethod
    @permissions.staff_required
    def resolve_orders(root, info, status=None, **kwargs):
        qs = Order.objects.order_by("-pk")
        return qs.filter(status=enum_value(status)) if status is not None else qs

    @staticmethod
    def resolve_vendor_orders(root, info, vendor_id, status=None, **kwargs):
        pk = decode_id(vendor_id, VendorType, field="vendor_id")
        require_vendor_role(info, pk, ANY_STAFF)
        qs = (VendorOrder.objects.filter(vendor_id=pk).select_related("order", "vendor")
              .prefetch_related("lines", "refunds").order_by("-pk"))
        return qs.filter(status=enum_value(status)) if status is not None else qs

    @staticmethod
    def resolve_vendor_ledger(root, info, vendor_id):
        pk = int(decode_id(vendor_id, VendorType, field="vendor_id"))
        require_vendor_role(info, pk, MANAGERS)
        ledger_view = VendorLedger(balance=money(ledger.balance(pk), "CNY"),
                                   commission_paid=money(ledger.balance(pk, "platform_revenue"), "CNY"))
        ledger_view.vendor_id = pk
        return ledger_view


def _mine(order):
    return order.user_id


class OrderCancel(BaseMutation):
    """The buyer cancels an unpaid order; its stock and claims are released."""

    permission = permissions.user_owned(_mine, staff=True)
    lookup = ("id", OrderType)
    order = graphene.Field(OrderType)

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String()

    @classmethod
    def perform(cls, info, instance, id, reason=None):
        return cls(order=services.cancel(instance.pk, reason or "Cancelled by the customer"))


class OrderConfirmReceived(BaseMutation):
    permission = permissions.user_owned(_mine, staff=True)
    lookup = ("id", OrderType)
    order = graphene.Field(OrderType)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(order=services.confirm_received(instance.pk))


class VendorOrderFulfil(BaseMutation):
    """A seller ships its own sub-order (carrier and tracking number when anything ships;
    a sub-order of services only is fulfilled without them)."""

    permission = vendor_role(ANY_STAFF, vendor_from=lambda vendor_order: vendor_order.vendor_id)
    lookup = ("id", VendorOrderType)
    vendor_order = graphene.Field(VendorOrderType)

    class Arguments:
        id = graphene.ID(required=True)
        carrier = graphene.String()
        tracking_number = graphene.String()

    @classmethod
    def perform(cls, info, instance, id, carrier=None, tracking_number=None):
        return cls(vendor_order=services.fulfil(instance.pk, carrier or "", tracking_number or ""))


class OrderRefund(BaseMutation):
    """Refund money to the customer: platform staff for any order; a vendor's owner or
    managers for their own sub-order. Without `amount`, everything still unrefunded. Each
    sub-order's refund stands on its own: when the gateway fails on one, those before it
    stay refunded and booked (the error names the failure)."""

    permission = vendor_role(MANAGERS, vendor_from=lambda vendor_order: vendor_order.vendor_id)
    lookup = ("vendor_order_id", VendorOrderType)
    order = graphene.Field(OrderType, description="The whole order: platform staff only.")
    vendor_order = graphene.Field(VendorOrderType, description="The refunded sub-order, when one was named.")
    refunds = graphene.List(graphene.NonNull("marketplace.payments.schema.RefundType"),
                            description="The refunds made by this call (null when it failed before any).")

    class Arguments:
        order_id = graphene.ID(required=True)
        vendor_order_id = graphene.ID()
        amount = graphene.Decimal()
        reason = graphene.String()

    @classmethod
    def perform(cls, info, order_id, instance=None, vendor_order_id=None, amount=None, reason=None):
        from marketplace.payments import services as payments

        user = permissions.require_login(info)
        order_pk = int(decode_id(order_id, OrderType, field="order_id"))
        if instance is not None and instance.order_id != order_pk:
            raise NotFound("That sub-order is not part of this order.", field="vendor_order_id")
        refunds = payments.refund(order_pk, amount=amount, vendor_order_id=instance.pk if instance else None,
                                  reason=reason or "")
        return cls(order=Order.objects.get(pk=order_pk) if user.is_staff else None,
                   vendor_order=VendorOrder.objects.get(pk=instance.pk) if instance else None, refunds=refunds)


class Mutation(graphene.ObjectType):
    order_cancel = OrderCancel.Field()
    order_confirm_received = OrderConfirmReceived.Field()
    vendor_order_fulfil = VendorOrderFulfil.Field()
    order_refund = OrderRefund.Field()
