import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import ConnectionField, CountableConnection
from marketplace.api.types import decode_id, enum_value
from marketplace.core import permissions
from marketplace.core.errors import NotFound, PermissionDenied
from marketplace.pricing.schema import Money, money
from marketplace.vendors.permissions import ANY_STAFF, MANAGERS, has_vendor_role, require_vendor_role
from marketplace.vendors.schema import VendorType

from . import ledger, services
from .dataloaders import LinesByVendorOrderIdLoader, PaymentsByOrderIdLoader, VendorOrdersByOrderIdLoader
from marketplace.payments.models import Payment

from .models import LedgerEntry, Order, OrderLine, VendorOrder

OrderStatusEnum = graphene.Enum("OrderStatus", [(s.upper(), s) for s in
                                                ("unpaid", "paid", "partially_fulfilled", "fulfilled", "completed",
                                                 "cancelled", "refunded")])
VendorOrderStatusEnum = graphene.Enum("VendorOrderStatus", [(s.upper(), s) for s in
                                                            ("unpaid", "paid", "fulfilled", "completed", "cancelled",
                                                             "refunded")])



class PaymentType(DjangoObjectType):
    client_secret = graphene.String(description="For the storefront to confirm the payment (only when just created).")
    amount = graphene.Field(Money, required=True)

    class Meta:
        model = Payment
        name = "Payment"
        interfaces = (relay.Node,)
        fields = ("gateway", "reference", "capture_method", "status", "created_at")
        convert_choices_to_enum = False

    @classmethod
    def get_node(cls, info, id):
        payment = cls._meta.model.objects.select_related("order").filter(pk=id).first()
        return payment if payment and _may_see_order(info, payment.order) else None

    @staticmethod
    def resolve_client_secret(root, info):
        return getattr(root, "client_secret", None)

    @staticmethod
    def resolve_amount(root, info):
        return money(root.amount, root.currency)


class OrderLineType(DjangoObjectType):
    unit_price = graphene.Field(Money, required=True)
    unit_list_price = graphene.Field(Money, required=True)
    total = graphene.Field(Money, required=True)
    price_explanation = graphene.JSONString(required=True)

    class Meta:
        model = OrderLine
        name = "OrderLine"
        fields = ("product_name", "sku", "quantity")

    @staticmethod
    def resolve_unit_price(root, info):
        return money(root.unit_price, "CNY")

    @staticmethod
    def resolve_unit_list_price(root, info):
        return money(root.unit_list_price, "CNY")

    @staticmethod
    def resolve_total(root, info):
        return money(root.total, "CNY")


class VendorOrderType(DjangoObjectType):
    """One vendor's part of an order. Vendor staff see these, never the whole order."""

    status = graphene.Field(VendorOrderStatusEnum, required=True)
    vendor = graphene.Field(VendorType, required=True)
    order_number = graphene.String(required=True)
    customer_email = graphene.String(required=True)
    shipping_address = graphene.JSONString(required=True)
    lines = graphene.List(graphene.NonNull(OrderLineType), required=True)
    subtotal = graphene.Field(Money, required=True)
    shipping = graphene.Field(Money, required=True)
    total = graphene.Field(Money, required=True)
    refunded = graphene.Field(Money, required=True)
    commission = graphene.Field(Money, required=True)

    class Meta:
        model = VendorOrder
        name = "VendorOrder"
        interfaces = (relay.Node,)
        fields = ("shipping_method_name", "carrier", "tracking_number", "fulfilled_at", "commission_rate")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        vendor_order = VendorOrder.objects.select_related("order").filter(pk=id).first()
        if vendor_order and (_may_see_order(info, vendor_order.order)
                             or has_vendor_role(permissions.current_user(info), vendor_order.vendor_id)):
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
    def resolve_shipping(root, info):
        return money(root.shipping, root.order.currency)

    @staticmethod
    def resolve_total(root, info):
        return money(root.total, root.order.currency)

    @staticmethod
    def resolve_refunded(root, info):
        return money(root.refunded, root.order.currency)

    @staticmethod
    def resolve_commission(root, info):
        return money(ledger.commission_for(root), root.order.currency)


class OrderType(DjangoObjectType):
    status = graphene.Field(OrderStatusEnum, required=True)
    vendor_orders = graphene.List(graphene.NonNull(VendorOrderType), required=True)
    payments = graphene.List(graphene.NonNull(PaymentType), required=True)
    subtotal = graphene.Field(Money, required=True)
    shipping_total = graphene.Field(Money, required=True)
    total = graphene.Field(Money, required=True)
    refunded_total = graphene.Field(Money, required=True)
    shipping_address = graphene.JSONString(required=True)

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
    def resolve_vendor_orders(root, info):
        return VendorOrdersByOrderIdLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_payments(root, info):
        return PaymentsByOrderIdLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_subtotal(root, info):
        return money(root.subtotal, root.currency)

    @staticmethod
    def resolve_shipping_total(root, info):
        return money(root.shipping_total, root.currency)

    @staticmethod
    def resolve_total(root, info):
        return money(root.total, root.currency)

    @staticmethod
    def resolve_refunded_total(root, info):
        return money(root.refunded_total, root.currency)


def _may_see_order(info, order):
    user = permissions.current_user(info)
    if not permissions.is_authenticated(user):
        return False
    return user.is_staff or order.user_id == user.pk


def _own_order(info, global_id, field="order_id"):
    order = Order.objects.filter(pk=decode_id(global_id, OrderType, field=field)).first()
    if order is None or not _may_see_order(info, order):
        raise NotFound("Order not found.", field=field)
    return order


class LedgerEntryType(DjangoObjectType):
    amount = graphene.Field(Money, required=True)
    order_number = graphene.String(required=True)

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
        return entry if entry and has_vendor_role(permissions.current_user(info), entry.vendor_id) else None

    @staticmethod
    def resolve_amount(root, info):
        return money(root.amount, root.currency)

    @staticmethod
    def resolve_order_number(root, info):
        return root.order.number


class VendorLedger(graphene.ObjectType):
    balance = graphene.Field(Money, required=True, description="What the platform owes the vendor.")
    commission_paid = graphene.Field(Money, required=True)
    entries = ConnectionField(LedgerEntryType)

    @staticmethod
    def resolve_entries(root, info, **kwargs):
        return LedgerEntry.objects.filter(vendor_id=root.vendor_id, account="vendor_payable").select_related("order").order_by("-pk")


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
        qs = VendorOrder.objects.filter(vendor_id=pk).select_related("order", "vendor").order_by("-pk")
        return qs.filter(status=enum_value(status)) if status is not None else qs

    @staticmethod
    def resolve_vendor_ledger(root, info, vendor_id):
        pk = int(decode_id(vendor_id, VendorType, field="vendor_id"))
        require_vendor_role(info, pk, MANAGERS)
        ledger_view = VendorLedger(balance=money(ledger.balance(pk), "CNY"),
                                   commission_paid=money(ledger.balance(pk, "platform_revenue"), "CNY"))
        ledger_view.vendor_id = pk
        return ledger_view


class OrderPaymentCreate(BaseMutation):
    """Start (or restart) paying an unpaid order with a gateway; returns the client secret."""

    permission = permissions.allow_any
    payment = graphene.Field(PaymentType)

    class Arguments:
        order_number = graphene.String(required=True)
        checkout_token = graphene.UUID(required=True, description="Proves the anonymous buyer owns the order.")
        gateway = graphene.String(required=True)
        capture_method = graphene.String(default_value="automatic")

    @classmethod
    def perform(cls, info, order_number, checkout_token, gateway, capture_method="automatic"):
        from marketplace.payments import services as payments

        order = Order.objects.filter(number=order_number, checkout_token=checkout_token).first()
        if order is None:
            raise NotFound("Order not found.", field="order_number")
        return cls(payment=payments.create_payment(order, gateway, capture_method))


class OrderCancel(BaseMutation):
    permission = permissions.authenticated
    order = graphene.Field(OrderType)

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String()

    @classmethod
    def perform(cls, info, id, reason=None):
        order = _own_order(info, id, field="id")
        return cls(order=services.cancel(order.pk, reason or "Cancelled by the customer"))


class OrderConfirmReceived(BaseMutation):
    permission = permissions.authenticated
    order = graphene.Field(OrderType)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, id):
        order = _own_order(info, id, field="id")
        return cls(order=services.confirm_received(order.pk))


class VendorOrderFulfil(BaseMutation):
    """A vendor ships its own sub-order."""

    permission = permissions.authenticated
    vendor_order = graphene.Field(VendorOrderType)

    class Arguments:
        id = graphene.ID(required=True)
        carrier = graphene.String(required=True)
        tracking_number = graphene.String(required=True)

    @classmethod
    def perform(cls, info, id, carrier, tracking_number):
        vendor_order = VendorOrder.objects.filter(pk=decode_id(id, VendorOrderType)).first()
        if vendor_order is None:
            raise NotFound("Order not found.", field="id")
        require_vendor_role(info, vendor_order.vendor_id, ANY_STAFF)
        return cls(vendor_order=services.fulfil(vendor_order.pk, carrier, tracking_number))


class OrderRefund(BaseMutation):
    """Refund money to the customer: platform staff for any order; a vendor's owner or
    managers for their own sub-order. Without `amount`, everything still unrefunded."""

    permission = permissions.authenticated
    order = graphene.Field(OrderType, description="The whole order: platform staff only.")
    vendor_order = graphene.Field(VendorOrderType, description="The refunded sub-order, when one was named.")

    class Arguments:
        order_id = graphene.ID(required=True)
        vendor_order_id = graphene.ID()
        amount = graphene.Decimal()
        reason = graphene.String()

    @classmethod
    def perform(cls, info, order_id, vendor_order_id=None, amount=None, reason=None):
        from marketplace.payments import services as payments

        user = permissions.require_login(info)
        order_pk = decode_id(order_id, OrderType, field="order_id")
        vendor_order_pk = decode_id(vendor_order_id, VendorOrderType, "vendor_order_id") if vendor_order_id else None
        if not user.is_staff:
            vendor_order = VendorOrder.objects.filter(pk=vendor_order_pk, order_id=order_pk).first() if vendor_order_pk else None
            if vendor_order is None:
                raise PermissionDenied("Vendors refund their own sub-order: give vendorOrderId.")
            require_vendor_role(info, vendor_order.vendor_id, MANAGERS)
        payments.refund(order_pk, amount=amount, vendor_order_id=vendor_order_pk, reason=reason or "")
        return cls(order=Order.objects.get(pk=order_pk) if user.is_staff else None,
                   vendor_order=VendorOrder.objects.get(pk=vendor_order_pk) if vendor_order_pk else None)


class PaymentCapture(BaseMutation):
    """Capture an authorised (manual-capture) payment. Platform staff."""

    permission = permissions.platform_staff
    payment = graphene.Field(PaymentType)

    class Arguments:
        id = graphene.ID(required=True)
        amount = graphene.Decimal()

    @classmethod
    def perform(cls, info, id, amount=None):
        from marketplace.payments import services as payments

        return cls(payment=payments.capture(decode_id(id, PaymentType), amount))


class Mutation(graphene.ObjectType):
    order_payment_create = OrderPaymentCreate.Field()
    order_cancel = OrderCancel.Field()
    order_confirm_received = OrderConfirmReceived.Field()
    vendor_order_fulfil = VendorOrderFulfil.Field()
    order_refund = OrderRefund.Field()
    payment_capture = PaymentCapture.Field()
