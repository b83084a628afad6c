"""GraphQL of carts and shipping methods: thin; reads here, writes through services."""
import graphene
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from marketplace.api.mutations import BaseMutation
from marketplace.api.types import decode_id
from marketplace.catalog.schema import ProductVariantNode
from marketplace.core import permissions
from marketplace.core.errors import NotFound
from marketplace.pricing.schema import Money, Price, money
from marketplace.vendors.permissions import MANAGERS, vendor_role
from marketplace.vendors.schema import VendorType

from . import completion, services
from .models import PRODUCT_LINE, ShippingMethod
from .permissions import cart_owner
from .totals import compute_totals, shipping_cost

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

    id = graphene.ID(required=True, description="The line's id in this cart (for checkoutLineRemove).")
    kind = graphene.String(required=True, description='"product" for catalog variants, else a plugin line kind.')
    reference = graphene.String(required=True, description="A plugin line's item (e.g. a plan code); empty for products.")
    name = graphene.String(required=True)
    sku = graphene.String(required=True)
    variant = graphene.Field(ProductVariantNode, description="The catalog variant (null for plugin lines).")
    quantity = graphene.Int(required=True)
    unit_price = graphene.Field(Price, required=True)
    total = graphene.Field(Money, required=True, description="Unit price x quantity, before order-level discounts.")
    requires_shipping = graphene.Boolean(required=True)
    metadata = GenericScalar(required=True, description="Plugin data on the line, by plugin name.")


class CheckoutVendorPart(graphene.ObjectType):
    vendor = graphene.Field(VendorType, description="The seller; null for the platform's own lines.")
    lines = graphene.List(graphene.NonNull(CheckoutLineType), required=True)
    goods = graphene.Field(Money, required=True, description="Lines at their final unit prices.")
    discount = graphene.Field(Money, required=True, description="Order-level discounts allocated here.")
    subtotal = graphene.Field(Money, required=True, description="goods - discount")
    tendered = graphene.Field(Money, required=True, description="Paid by tenders (points, store credit).")
    requires_shipping = graphene.Boolean(required=True)
    shipping_method = graphene.Field(ShippingMethodNode)
    shipping = graphene.Field(Money, description="Null until a method is chosen (0 when nothing ships).")
    shipping_options = graphene.List(graphene.NonNull(ShippingOption), required=True)
    delivery_address = graphene.JSONString(description="Where this seller ships instead of the cart's shipping "
                                                       "address (e.g. to the repair shop fitting the parts); null: "
                                                       "the cart's address.")
    delivery_label = graphene.String(description='Why, e.g. "送至安装门店 Deliver to installer".')


class AppliedOrderAdjustmentType(graphene.ObjectType):
    class Meta:
        name = "OrderAdjustment"

    source = graphene.String(required=True)
    label = graphene.String(required=True)
    kind = graphene.String(required=True, description='"discount" or "tender".')
    requested = graphene.Field(Money, required=True, description="What the plugin offered.")
    applied = graphene.Field(Money, required=True, description="What applied, capped by every line's floor.")


class CheckoutType(graphene.ObjectType):
    class Meta:
        name = "Checkout"

    token = graphene.UUID(required=True)
    email = graphene.String()
    shipping_address = graphene.JSONString()
    metadata = GenericScalar(required=True)
    lines = graphene.List(graphene.NonNull(CheckoutLineType), required=True)
    vendors = graphene.List(graphene.NonNull(CheckoutVendorPart), required=True,
                            description="The cart split by seller, each with its own shipping.")
    adjustments = graphene.List(graphene.NonNull(AppliedOrderAdjustmentType), required=True)
    subtotal = graphene.Field(Money, required=True, description="Goods less order-level discounts.")
    discount = graphene.Field(Money, required=True)
    shipping = graphene.Field(Money)
    total = graphene.Field(Money, description="Null until every seller that ships has a method.")
    tendered = graphene.Field(Money, required=True)
    amount_due = graphene.Field(Money, description="What the payment gateway will be asked for: total - tendered.")
    requires_shipping = graphene.Boolean(required=True)
    quantity = graphene.Int(required=True)

    @staticmethod
    def _totals(root, info):
        cached = getattr(root, "_totals", None)
        if cached is None:
            cached = compute_totals(root, user=_user(info))
            root._totals = cached
        return cached

    @staticmethod
    def resolve_metadata(root, info):
        return root.metadata or {}

    @classmethod
    def resolve_lines(cls, root, info):
        totals = cls._totals(root, info)
        return [_line(line, totals) for line in totals.lines]

    @classmethod
    def resolve_vendors(cls, root, info):
        totals = cls._totals(root, info)
        c = totals.currency
        return [CheckoutVendorPart(
            vendor=part.vendor, lines=[_line(line, totals) for line in part.lines], goods=money(part.goods, c),
            discount=money(part.discount, c), subtotal=money(part.subtotal, c), tendered=money(part.tendered, c),
            requires_shipping=part.requires_shipping, shipping_method=part.method,
            shipping=money(part.shipping, c) if part.shipping is not None else None,
            shipping_options=[ShippingOption(method=m, cost=money(shipping_cost(m, part.subtotal, part.weight_grams), c))
                              for m in part.methods],
            delivery_address=part.delivery_address, delivery_label=part.delivery_label or None,
        ) for part in totals.parts]

    @classmethod
    def resolve_adjustments(cls, root, info):
        totals = cls._totals(root, info)
        return [AppliedOrderAdjustmentType(source=a.source, label=a.adjustment.label, kind=a.kind,
                                           requested=money(a.requested, totals.currency),
                                           applied=money(a.applied, totals.currency)) for a in totals.adjustments]

    @classmethod
    def resolve_subtotal(cls, root, info):
        totals = cls._totals(root, info)
        return money(totals.subtotal, totals.currency)

    @classmethod
    def resolve_discount(cls, root, info):
        totals = cls._totals(root, info)
        return money(totals.discount, totals.currency)

    @classmethod
    def resolve_shipping(cls, root, info):
        totals = cls._totals(root, info)
        return money(totals.shipping, totals.currency) if totals.shipping is not None else None

    @classmethod
    def resolve_total(cls, root, info):
        totals = cls._totals(root, info)
        return money(totals.total, totals.currency) if totals.total is not None else None

    @classmethod
    def resolve_tendered(cls, root, info):
        totals = cls._totals(root, info)
        return money(totals.tendered, totals.currency)

    @classmethod
    def resolve_amount_due(cls, root, info):
        totals = cls._totals(root, info)
        return money(totals.amount_due, totals.currency) if totals.amount_due is not None else None

    @classmethod
    def resolve_requires_shipping(cls, root, info):
        return cls._totals(root, info).requires_shipping

    @staticmethod
    def resolve_quantity(root, info):
        return sum(line.quantity for line in root.lines.all())


def _line(line, totals):
    return CheckoutLineType(id=str(line.line_id), kind=line.kind, reference=line.reference, name=line.name,
                            sku=line.sku, variant=totals.variants.get(line.variant_id), quantity=line.quantity,
                            unit_price=line.unit_price, total=money(line.total, totals.currency),
                            requires_shipping=line.requires_shipping, metadata=dict(line.metadata))


def _user(info):
    user = permissions.current_user(info)
    return user if permissions.is_authenticated(user) else None


class Query(graphene.ObjectType):
    checkout = graphene.Field(CheckoutType, token=graphene.UUID(required=True),
                              description="An anonymous cart by token, or the signed-in member's own cart.")
    my_checkout = graphene.Field(CheckoutType, description="The signed-in member's open cart (null when they have "
                                                           "none, or for anonymous callers). Its `token` is the one "
                                                           "the cart mutations take.")
    shipping_methods = graphene.List(graphene.NonNull(ShippingMethodNode), required=True,
                                     vendor_id=graphene.ID(required=True))

    @staticmethod
    def resolve_checkout(root, info, token):
        try:
            return services.get_checkout(token, _user(info))
        except NotFound:
            return None

    @staticmethod
    def resolve_my_checkout(root, info):
        user = _user(info)
        return services.member_checkout(user) if user is not None else None

    @staticmethod
    def resolve_shipping_methods(root, info, vendor_id):
        pk = decode_id(vendor_id, VendorType, field="vendor_id")
        return ShippingMethod.objects.filter(vendor_id=pk, is_active=True)


class CheckoutLineInput(graphene.InputObjectType):
    variant_id = graphene.ID(description="A catalog variant (for product lines).")
    quantity = graphene.Int(required=True)
    kind = graphene.String(description='A plugin line kind (e.g. "membership"); omit for products.')
    reference = graphene.String(description="The plugin line's item, e.g. a plan code.")
    metadata = GenericScalar(description="Options for a plugin line (a JSON object), validated by its plugin.")


def line_inputs(lines):
    """CheckoutLineInput values as services.LineInput, errors naming `lines.<index>`."""
    from marketplace.core.errors import ErrorCode, MarketplaceError, ValidationError

    result, errors = [], []
    for index, line in enumerate(lines or []):
        kind = (line.kind or PRODUCT_LINE).strip()
        if kind == PRODUCT_LINE:
            if line.variant_id is None:
                errors.append(MarketplaceError("Give a variant.", code=ErrorCode.REQUIRED,
                                               field=f"lines.{index}.variant_id"))
                continue
            try:
                variant_id = int(decode_id(line.variant_id, ProductVariantNode, f"lines.{index}.variant_id"))
            except MarketplaceError as exc:
                errors += exc.as_list()
                continue
            result.append(services.LineInput(variant_id=variant_id, quantity=line.quantity))
        else:
            metadata = line.metadata if isinstance(line.metadata, dict) or line.metadata is None else None
            if line.metadata is not None and metadata is None:
                errors.append(MarketplaceError("metadata must be an object.", field=f"lines.{index}.metadata"))
                continue
            result.append(services.LineInput(kind=kind, reference=(line.reference or "").strip(),
                                             quantity=line.quantity, metadata=metadata))
    if errors:
        raise ValidationError(errors=errors)
    return result


class CheckoutCreate(BaseMutation):
    """Start a cart: anonymous (keep the returned token) or the member's own. All lines are
    added or none; an error names its line (`lines.<index>.<field>`)."""

    permission = permissions.allow_any
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        lines = graphene.List(graphene.NonNull(CheckoutLineInput))
        email = graphene.String()

    @classmethod
    def perform(cls, info, lines=None, email=None):
        return cls(checkout=services.create_checkout(_user(info), email or "", line_inputs(lines)))


class CheckoutLinesAdd(BaseMutation):
    """Add lines (catalog variants or plugin lines); all or nothing."""

    permission = cart_owner()
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        lines = graphene.List(graphene.NonNull(CheckoutLineInput), required=True)

    @classmethod
    def perform(cls, info, instance, token, lines):
        return cls(checkout=services.add_lines(instance, line_inputs(lines), user=_user(info)))


class CheckoutLineUpdate(BaseMutation):
    """Set a variant line's quantity; 0 removes it."""

    permission = cart_owner()
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        variant_id = graphene.ID(required=True)
        quantity = graphene.Int(required=True)

    @classmethod
    def perform(cls, info, instance, token, variant_id, quantity):
        pk = decode_id(variant_id, ProductVariantNode, "variant_id")
        return cls(checkout=services.set_line(instance, pk, quantity, user=_user(info)))


class CheckoutLineRemove(BaseMutation):
    """Remove any line (product or plugin line) by its cart line id."""

    permission = cart_owner()
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        line_id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, token, line_id):
        from marketplace.core.errors import ValidationError

        if not str(line_id).isdigit():
            raise ValidationError("Not a line id.", field="line_id")
        return cls(checkout=services.remove_line(instance, int(line_id)))


class CheckoutEmailUpdate(BaseMutation):
    permission = cart_owner()
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        email = graphene.String(required=True)

    @classmethod
    def perform(cls, info, instance, token, email):
        return cls(checkout=services.set_email(instance, email))


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
    permission = cart_owner()
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        address = CheckoutAddressInput(required=True)

    @classmethod
    def perform(cls, info, instance, token, address):
        return cls(checkout=services.set_shipping_address(instance, dict(address)))


class CheckoutShippingMethodUpdate(BaseMutation):
    permission = cart_owner()
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        vendor_id = graphene.ID(required=True)
        shipping_method_id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, token, vendor_id, shipping_method_id):
        return cls(checkout=services.set_shipping_method(
            instance, decode_id(vendor_id, VendorType, "vendor_id"),
            decode_id(shipping_method_id, ShippingMethodNode, "shipping_method_id")))


class CheckoutAttach(BaseMutation):
    """After sign-in: merge an anonymous cart into the member's cart, with the checks that
    adding makes. Lines that could not come along entirely (no longer for sale, not enough
    stock, too many lines) are clamped or left out and reported in `problems`."""

    permission = permissions.authenticated
    checkout = graphene.Field(CheckoutType)
    problems = graphene.List(graphene.NonNull("marketplace.api.errors.Error"), required=True)

    class Arguments:
        token = graphene.UUID(required=True)

    @classmethod
    def perform(cls, info, token):
        from marketplace.api.errors import to_error_list
        from marketplace.core.errors import ValidationError

        checkout, problems = services.attach(token, permissions.current_user(info))
        return cls(checkout=checkout, problems=to_error_list(ValidationError(errors=problems)) if problems else [])


class CheckoutComplete(BaseMutation):
    """Place the order: stock is reserved atomically and one sub-order is made per seller.
    Pass `expectedTotal` (the total the buyer last saw) to refuse with PRICE_CHANGED when it
    moved. With `gateway`, a payment for what is due is started too and its client secret
    returned; an order with nothing due (tenders cover it) is paid at once."""

    permission = permissions.allow_any
    order = graphene.Field("marketplace.orders.schema.OrderType")
    payment = graphene.Field("marketplace.payments.schema.PaymentType")

    class Arguments:
        token = graphene.UUID(required=True)
        gateway = graphene.String(description='e.g. "stripe" or "dev"')
        capture_method = graphene.String(default_value="automatic", description="automatic or manual")
        expected_total = graphene.Decimal(description="The total the buyer saw; a different one refuses.")

    @classmethod
    def perform(cls, info, token, gateway=None, capture_method="automatic", expected_total=None):
        from marketplace.api.errors import to_error_list
        from marketplace.core.errors import MarketplaceError
        from marketplace.payments import services as payments

        # The order and its pending payment are committed together; starting the payment (a
        # network call) happens after the transaction, so no lock is held during it. A bad
        # gateway choice or a failed start leaves an unpaid order and says why.
        capture_method = capture_method or "automatic"
        problem = None
        if gateway:
            try:
                payments.check_payment_options(gateway, capture_method)
            except MarketplaceError as exc:
                problem = exc
        order, payment = completion.complete_with_payment(
            token, _user(info), expected_total=expected_total, gateway=gateway if problem is None else None,
            capture_method=capture_method)
        payload = cls(order=order, errors=[])
        if problem is not None and order.amount_due > 0:
            payload.errors = to_error_list(problem)
        elif payment is not None:
            try:
                payload.payment = payments.start_payment(payment)
            except MarketplaceError as exc:
                payload.errors = to_error_list(exc)
        return payload


class ShippingMethodInput(graphene.InputObjectType):
    name_zh = graphene.String()
    name_en = graphene.String()
    kind = ShippingKind()
    price = graphene.Decimal()
    price_per_kg = graphene.Decimal()
    free_over = graphene.Decimal()
    is_active = graphene.Boolean()


class ShippingMethodCreate(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    shipping_method = graphene.Field(ShippingMethodNode)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = ShippingMethodInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        pk = decode_id(vendor_id, VendorType, "vendor_id")
        return cls(shipping_method=services.save_shipping_method(ShippingMethod(vendor_id=pk), dict(input)))


class ShippingMethodUpdate(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from=lambda method: method.vendor_id)
    lookup = ("id", ShippingMethodNode)
    shipping_method = graphene.Field(ShippingMethodNode)

    class Arguments:
        id = graphene.ID(required=True)
        input = ShippingMethodInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(shipping_method=services.save_shipping_method(instance, dict(input)))


class Mutation(graphene.ObjectType):
    checkout_create = CheckoutCreate.Field()
    checkout_lines_add = CheckoutLinesAdd.Field()
    checkout_line_update = CheckoutLineUpdate.Field()
    checkout_line_remove = CheckoutLineRemove.Field()
    checkout_email_update = CheckoutEmailUpdate.Field()
    checkout_shipping_address_update = CheckoutShippingAddressUpdate.Field()
    checkout_shipping_method_update = CheckoutShippingMethodUpdate.Field()
    checkout_attach = CheckoutAttach.Field()
    checkout_complete = CheckoutComplete.Field()
    shipping_method_create = ShippingMethodCreate.Field()
    shipping_method_update = ShippingMethodUpdate.Field()
