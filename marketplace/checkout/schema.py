import graphene
from graphene_django import DjangoObjectType

from marketplace.api.mutations import BaseMutation
from marketplace.api.types import decode_id
from marketplace.catalog.schema import ProductVariantNode
from marketplace.core import permissions
from marketplace.core.errors import NotFound
from marketplace.pricing.schema import Money, Price, money
from marketplace.vendors.permissions import MANAGERS, require_vendor_role
from marketplace.vendors.schema import VendorType

from . import services
from .models import ShippingMethod

ShippingKind = graphene.Enum("ShippingKind", [("FLAT", "flat"), ("WEIGHT", "weight")])


class ShippingMethodNode(DjangoObjectType):
    kind = graphene.Field(ShippingKind, required=True)

    class Meta:
        model = ShippingMethod
        name = "ShippingMethod"
        interfaces = (graphene.relay.Node,)
        fields = ("name_zh", "name_en", "price", "price_per_kg", "free_over", "is_active")

    @staticmethod
    def resolve_kind(root, info):
        return str(root.kind)


class ShippingOption(graphene.ObjectType):
    method = graphene.Field(ShippingMethodNode, required=True)
    cost = graphene.Field(Money, required=True)


class CheckoutLineType(graphene.ObjectType):
    class Meta:
        name = "CheckoutLine"

    variant = graphene.Field(ProductVariantNode, required=True)
    quantity = graphene.Int(required=True)
    unit_price = graphene.Field(Price, required=True)
    total = graphene.Field(Money, required=True)


class CheckoutVendorPart(graphene.ObjectType):
    vendor = graphene.Field(VendorType, required=True)
    lines = graphene.List(graphene.NonNull(CheckoutLineType), required=True)
    subtotal = graphene.Field(Money, required=True)
    shipping_method = graphene.Field(ShippingMethodNode)
    shipping = graphene.Field(Money, description="Null until a method is chosen.")
    shipping_options = graphene.List(graphene.NonNull(ShippingOption), required=True)


class CheckoutType(graphene.ObjectType):
    class Meta:
        name = "Checkout"

    token = graphene.UUID(required=True)
    email = graphene.String()
    shipping_address = graphene.JSONString()
    vendors = graphene.List(graphene.NonNull(CheckoutVendorPart), required=True,
                            description="The cart split by vendor, each with its own shipping.")
    subtotal = graphene.Field(Money, required=True)
    shipping = graphene.Field(Money)
    total = graphene.Field(Money)
    quantity = graphene.Int(required=True)

    @staticmethod
    def _totals(root, info):
        cached = getattr(root, "_totals", None)
        if cached is None:
            cached = services.compute_totals(root, user=_user(info))
            root._totals = cached
        return cached

    @classmethod
    def resolve_vendors(cls, root, info):
        totals = cls._totals(root, info)
        parts = []
        for part in totals.parts:
            lines = []
            for line, variant, price in part.lines:
                lines.append(CheckoutLineType(variant=variant, quantity=line.quantity, unit_price=price,
                                              total=money(price.final_price * line.quantity, price.currency)))
            parts.append(CheckoutVendorPart(
                vendor=part.vendor, lines=lines, subtotal=money(part.subtotal, totals.currency),
                shipping_method=part.method,
                shipping=money(part.shipping, totals.currency) if part.shipping is not None else None,
                shipping_options=[ShippingOption(method=m, cost=money(services.shipping_cost(m, part.subtotal,
                                                                                             part.weight_grams),
                                                                      totals.currency)) for m in part.methods],
            ))
        return parts

    @classmethod
    def resolve_subtotal(cls, root, info):
        totals = cls._totals(root, info)
        return money(totals.subtotal, totals.currency)

    @classmethod
    def resolve_shipping(cls, root, info):
        totals = cls._totals(root, info)
        return money(totals.shipping, totals.currency) if totals.shipping is not None else None

    @classmethod
    def resolve_total(cls, root, info):
        totals = cls._totals(root, info)
        return money(totals.total, totals.currency) if totals.total is not None else None

    @staticmethod
    def resolve_quantity(root, info):
        return sum(line.quantity for line in root.lines.all())


def _user(info):
    user = permissions.current_user(info)
    return user if permissions.is_authenticated(user) else None


class Query(graphene.ObjectType):
    checkout = graphene.Field(CheckoutType, token=graphene.UUID(required=True),
                              description="An anonymous cart by token, or the signed-in member's own cart.")
    shipping_methods = graphene.List(graphene.NonNull(ShippingMethodNode), required=True,
                                     vendor_id=graphene.ID(required=True))

    @staticmethod
    def resolve_checkout(root, info, token):
        try:
            return services.get_checkout(token, _user(info))
        except NotFound:
            return None

    @staticmethod
    def resolve_shipping_methods(root, info, vendor_id):
        pk = decode_id(vendor_id, VendorType, field="vendor_id")
        return ShippingMethod.objects.filter(vendor_id=pk, is_active=True)


class CheckoutLineInput(graphene.InputObjectType):
    variant_id = graphene.ID(required=True)
    quantity = graphene.Int(required=True)


def _checkout(info, token):
    return services.get_checkout(token, _user(info))


class CheckoutCreate(BaseMutation):
    """Start a cart: anonymous (keep the returned token) or the member's own."""

    permission = permissions.allow_any
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        lines = graphene.List(graphene.NonNull(CheckoutLineInput))
        email = graphene.String()

    @classmethod
    def perform(cls, info, lines=None, email=None):
        checkout = services.create_checkout(_user(info), email or "")
        for line in lines or []:
            checkout = services.set_line(checkout, decode_id(line.variant_id, ProductVariantNode, "variant_id"),
                                         line.quantity, add=True)
        return cls(checkout=checkout)


class CheckoutLinesAdd(BaseMutation):
    permission = permissions.allow_any
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        lines = graphene.List(graphene.NonNull(CheckoutLineInput), required=True)

    @classmethod
    def perform(cls, info, token, lines):
        checkout = _checkout(info, token)
        for line in lines:
            checkout = services.set_line(checkout, decode_id(line.variant_id, ProductVariantNode, "variant_id"),
                                         line.quantity, add=True)
        return cls(checkout=checkout)


class CheckoutLineUpdate(BaseMutation):
    """Set a line's quantity; 0 removes it."""

    permission = permissions.allow_any
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        variant_id = graphene.ID(required=True)
        quantity = graphene.Int(required=True)

    @classmethod
    def perform(cls, info, token, variant_id, quantity):
        checkout = _checkout(info, token)
        if quantity < 0:
            from marketplace.core.errors import ValidationError

            raise ValidationError("Quantity cannot be negative.", field="quantity")
        return cls(checkout=services.set_line(checkout, decode_id(variant_id, ProductVariantNode, "variant_id"), quantity))


class CheckoutEmailUpdate(BaseMutation):
    permission = permissions.allow_any
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        email = graphene.String(required=True)

    @classmethod
    def perform(cls, info, token, email):
        return cls(checkout=services.set_email(_checkout(info, token), email))


class CheckoutAddressInput(graphene.InputObjectType):
    full_name = graphene.String()
    phone = graphene.String()
    country = graphene.String()
    province = graphene.String()
    city = graphene.String()
    district = graphene.String()
    street = graphene.String()
    postal_code = graphene.String()


class CheckoutShippingAddressUpdate(BaseMutation):
    permission = permissions.allow_any
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        address = CheckoutAddressInput(required=True)

    @classmethod
    def perform(cls, info, token, address):
        return cls(checkout=services.set_shipping_address(_checkout(info, token), dict(address)))


class CheckoutShippingMethodUpdate(BaseMutation):
    permission = permissions.allow_any
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        vendor_id = graphene.ID(required=True)
        shipping_method_id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, token, vendor_id, shipping_method_id):
        checkout = _checkout(info, token)
        services.set_shipping_method(checkout, decode_id(vendor_id, VendorType, "vendor_id"),
                                     decode_id(shipping_method_id, ShippingMethodNode, "shipping_method_id"))
        return cls(checkout=checkout)


class CheckoutAttach(BaseMutation):
    """After sign-in: merge an anonymous cart into the member's cart."""

    permission = permissions.authenticated
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)

    @classmethod
    def perform(cls, info, token):
        return cls(checkout=services.attach(token, permissions.current_user(info)))


class CheckoutComplete(BaseMutation):
    """Place the order: stock is reserved atomically and one sub-order is made per vendor.
    With `gateway`, a payment is started too and its client secret returned."""

    permission = permissions.allow_any
    order = graphene.Field("marketplace.orders.schema.OrderType")
    payment = graphene.Field("marketplace.orders.schema.PaymentType")

    class Arguments:
        token = graphene.UUID(required=True)
        gateway = graphene.String(description='e.g. "stripe"')
        capture_method = graphene.String(default_value="automatic", description="automatic or manual")

    @classmethod
    def mutate(cls, root, info, **data):
        # The order is committed first; starting the payment (a network call) happens after
        # the stock locks are released. A payment failure leaves an unpaid order to retry.
        payload = super().mutate(root, info, **data)
        gateway = data.get("gateway")
        if payload.errors or not gateway or payload.order is None:
            return payload
        from marketplace.core.errors import MarketplaceError
        from marketplace.payments import services as payments
        from marketplace.api.errors import to_error_list

        try:
            payload.payment = payments.create_payment(payload.order, gateway, data.get("capture_method") or "automatic")
        except MarketplaceError as exc:
            payload.errors = to_error_list(exc)
        return payload

    @classmethod
    def perform(cls, info, token, gateway=None, capture_method="automatic"):
        return cls(order=services.complete(token, _user(info)))


class ShippingMethodInput(graphene.InputObjectType):
    name_zh = graphene.String()
    name_en = graphene.String()
    kind = ShippingKind()
    price = graphene.Decimal()
    price_per_kg = graphene.Decimal()
    free_over = graphene.Decimal()
    is_active = graphene.Boolean()


def _save_method(method, input):
    from marketplace.core.errors import ErrorCode, ValidationError

    data = dict(input)
    for name in ("name_zh", "name_en"):
        if data.get(name) is not None:
            setattr(method, name, data[name].strip()[:100])
    if not method.name_zh:
        raise ValidationError("A name is required.", code=ErrorCode.REQUIRED, field="name_zh")
    if data.get("kind") is not None:
        method.kind = getattr(data["kind"], "value", data["kind"])
    for name in ("price", "price_per_kg", "free_over"):
        if name in data and data[name] is not None:
            if data[name] < 0 or not data[name].is_finite():
                raise ValidationError("Must not be negative.", field=name)
            setattr(method, name, data[name].quantize(__import__("decimal").Decimal("0.01")))
    if method.price is None:
        raise ValidationError("A price is required.", code=ErrorCode.REQUIRED, field="price")
    if data.get("is_active") is not None:
        method.is_active = data["is_active"]
    method.save()
    return method


class ShippingMethodCreate(BaseMutation):
    permission = permissions.authenticated
    shipping_method = graphene.Field(ShippingMethodNode)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = ShippingMethodInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        pk = decode_id(vendor_id, VendorType, "vendor_id")
        require_vendor_role(info, pk, MANAGERS)
        return cls(shipping_method=_save_method(ShippingMethod(vendor_id=pk), input))


class ShippingMethodUpdate(BaseMutation):
    permission = permissions.authenticated
    shipping_method = graphene.Field(ShippingMethodNode)

    class Arguments:
        id = graphene.ID(required=True)
        input = ShippingMethodInput(required=True)

    @classmethod
    def perform(cls, info, id, input):
        method = ShippingMethod.objects.filter(pk=decode_id(id, ShippingMethodNode)).first()
        if method is None:
            raise NotFound("Shipping method not found.", field="id")
        require_vendor_role(info, method.vendor_id, MANAGERS)
        return cls(shipping_method=_save_method(method, input))


class Mutation(graphene.ObjectType):
    checkout_create = CheckoutCreate.Field()
    checkout_lines_add = CheckoutLinesAdd.Field()
    checkout_line_update = CheckoutLineUpdate.Field()
    checkout_email_update = CheckoutEmailUpdate.Field()
    checkout_shipping_address_update = CheckoutShippingAddressUpdate.Field()
    checkout_shipping_method_update = CheckoutShippingMethodUpdate.Field()
    checkout_attach = CheckoutAttach.Field()
    checkout_complete = CheckoutComplete.Field()
    shipping_method_create = ShippingMethodCreate.Field()
    shipping_method_update = ShippingMethodUpdate.Field()
