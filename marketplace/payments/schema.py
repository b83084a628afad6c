"""GraphQL of payments and refunds: thin; reads here, writes through services."""
import graphene
from graphene import relay
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from marketplace.api.mutations import BaseMutation
from marketplace.core import permissions
from marketplace.core.errors import NotFound
from marketplace.pricing.schema import Money, money

from . import services
from .dataloaders import RefundsByPaymentIdLoader
from .models import GatewayEvent, Payment, Refund

RefundStatusEnum = graphene.Enum("RefundStatus", [("PENDING", "pending"), ("SUCCEEDED", "succeeded"),
                                                  ("FAILED", "failed")])


def _may_see_payment(info, payment):
    user = permissions.current_user(info)
    if not permissions.is_authenticated(user):
        return False
    if user.is_staff:
        return True
    owner = payment.order.user_id if payment.order_id else payment.customer_id
    return owner == user.pk


class RefundType(DjangoObjectType):
    """Money returned. `pending` until the gateway confirms; `failed` needs staff."""

    status = graphene.Field(RefundStatusEnum, required=True)
    amount = graphene.Field(Money, required=True, description="The value refunded on the sub-order.")
    cash = graphene.Field(Money, required=True, description="Returned to the customer's payment method.")
    tendered = graphene.Field(Money, required=True, description="Returned to tenders (points, store credit).")

    class Meta:
        model = Refund
        name = "Refund"
        fields = ("reference", "reason", "failure_reason", "created_at", "settled_at")

    @staticmethod
    def resolve_status(root, info):
        return getattr(root.status, "value", root.status)

    @staticmethod
    def _currency(root):
        return root.payment.currency if root.payment_id else "CNY"

    @staticmethod
    def resolve_amount(root, info):
        return money(root.amount, RefundType._currency(root))

    @staticmethod
    def resolve_cash(root, info):
        return money(root.cash, RefundType._currency(root))

    @staticmethod
    def resolve_tendered(root, info):
        return money(root.tendered, RefundType._currency(root))


class PaymentType(DjangoObjectType):
    client_secret = graphene.String(description="For the storefront to confirm the payment (only when just created).")
    amount = graphene.Field(Money, required=True)
    captured = graphene.Field(Money, required=True)
    refunded = graphene.Field(Money, required=True)
    refunds = graphene.List(graphene.NonNull(RefundType), required=True)

    class Meta:
        model = Payment
        name = "Payment"
        interfaces = (relay.Node,)
        fields = ("gateway", "reference", "purpose", "capture_method", "status", "description", "created_at")
        convert_choices_to_enum = False

    @classmethod
    def get_node(cls, info, id):
        payment = cls._meta.model.objects.select_related("order").filter(pk=id).first()
        return payment if payment and _may_see_payment(info, payment) else None

    @staticmethod
    def resolve_client_secret(root, info):
        return getattr(root, "client_secret", None)

    @staticmethod
    def resolve_amount(root, info):
        return money(root.amount, root.currency)

    @staticmethod
    def resolve_captured(root, info):
        return money(root.captured_amount, root.currency)

    @staticmethod
    def resolve_refunded(root, info):
        return money(root.refunded_amount, root.currency)

    @staticmethod
    def resolve_refunds(root, info):
        return RefundsByPaymentIdLoader.for_request(info).load(root.pk)


class UnhandledGatewayEvents(graphene.ObjectType):
    type = graphene.String(required=True)
    count = graphene.Int(required=True)


class PaymentGatewayInfo(graphene.ObjectType):
    """A gateway buyers can pay with now, and what a storefront needs to use it."""

    name = graphene.String(required=True, description='Pass it as `gateway`, e.g. "dev" or "stripe".')
    capabilities = graphene.List(graphene.NonNull(graphene.String), required=True)
    client_config = GenericScalar(required=True, description='Public values only, e.g. {"publishableKey": "pk_..."}.')


class Query(graphene.ObjectType):
    payment_gateways = graphene.List(graphene.NonNull(PaymentGatewayInfo), required=True,
                                     description="Gateways buyers can pay with now (active and configured), by name.")
    unhandled_gateway_events = graphene.List(
        graphene.NonNull(UnhandledGatewayEvents), required=True, gateway=graphene.String(),
        description="Gateway webhook event types nobody handled, with counts (platform staff).")
    failed_refunds = graphene.List(graphene.NonNull(RefundType), required=True,
                                   description="Refunds the gateway did not complete (platform staff).")

    @staticmethod
    def resolve_payment_gateways(root, info):
        from .gateways import gateways

        found = []
        for name, gateway in sorted(gateways().items()):
            config = gateway.client_config()
            if config is not None:
                found.append(PaymentGatewayInfo(name=name, capabilities=sorted(gateway.capabilities),
                                                client_config=config))
        return found

    @staticmethod
    @permissions.staff_required
    def resolve_unhandled_gateway_events(root, info, gateway=None):
        return [UnhandledGatewayEvents(type=t, count=n) for t, n in sorted(services.unhandled_event_counts(gateway).items())]

    @staticmethod
    @permissions.staff_required
    def resolve_failed_refunds(root, info):
        return Refund.objects.filter(status="failed").select_related("payment").order_by("-pk")[:200]


def _own_payment(payment):
    return payment.order.user_id if payment.order_id else payment.customer_id


class OrderPaymentCreate(BaseMutation):
    """Start (or restart) paying an unpaid order with a gateway; returns the client secret.
    The checkout token proves an anonymous buyer owns the order."""

    permission = permissions.allow_any
    payment = graphene.Field(PaymentType)

    class Arguments:
        order_number = graphene.String(required=True)
        checkout_token = graphene.UUID(required=True, description="Proves the buyer owns the order.")
        gateway = graphene.String(required=True)
        capture_method = graphene.String(default_value="automatic")

    @classmethod
    def perform(cls, info, order_number, checkout_token, gateway, capture_method="automatic"):
        from marketplace.orders.models import Order

        order = Order.objects.filter(number=order_number, checkout_token=checkout_token).first()
        if order is None:
            raise NotFound("Order not found.", field="order_number")
        return cls(payment=services.create_payment(order, gateway, capture_method))


class PaymentCapture(BaseMutation):
    """Capture an authorised (manual-capture) payment. Platform staff."""

    permission = permissions.platform_staff
    lookup = ("id", PaymentType)
    payment = graphene.Field(PaymentType)

    class Arguments:
        id = graphene.ID(required=True)
        amount = graphene.Decimal()

    @classmethod
    def perform(cls, info, instance, id, amount=None):
        return cls(payment=services.capture(instance.pk, amount))


class PaymentVoid(BaseMutation):
    """Void an authorised or pending payment (no money moves). Platform staff."""

    permission = permissions.platform_staff
    lookup = ("id", PaymentType)
    payment = graphene.Field(PaymentType)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(payment=services.void(instance.pk))


class Mutation(graphene.ObjectType):
    order_payment_create = OrderPaymentCreate.Field()
    payment_capture = PaymentCapture.Field()
    payment_void = PaymentVoid.Field()


__all__ = ["PaymentType", "RefundType", "Query", "Mutation", "GatewayEvent"]
