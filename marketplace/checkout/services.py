"""Carts: lines, address, shipping choice, totals, and completion into an order."""
import math
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound, ValidationError
from marketplace.core.money import quantize
from marketplace.pricing.pipeline import PriceContext, compute_prices, line_for_variant

from .models import Checkout, CheckoutLine, CheckoutShipping, ShippingMethod

MAX_QUANTITY = 999
MAX_LINES = 100


# -- access ----------------------------------------------------------------------------
def _token(token):
    try:
        return uuid.UUID(str(token))
    except ValueError:
        raise NotFound("Checkout not found.", field="token") from None


def get_checkout(token, user=None, lock=False):
    """The open checkout with this token, if the caller may use it: an anonymous cart by
    its token; a member's cart only by that member."""
    token = _token(token)
    qs = Checkout.objects.select_for_update() if lock else Checkout.objects
    checkout = qs.filter(token=token, completed_at__isnull=True).first()
    if checkout is None:
        raise NotFound("Checkout not found.", field="token")
    if checkout.user_id is not None and (user is None or not user.is_authenticated or user.pk != checkout.user_id):
        raise NotFound("Checkout not found.", field="token")
    return checkout


@transaction.atomic
def create_checkout(user=None, email=""):
    if user is not None and user.is_authenticated:
        existing = Checkout.objects.filter(user=user, completed_at__isnull=True).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                return Checkout.objects.create(user=user, email=user.email)
        except IntegrityError:  # created concurrently
            return Checkout.objects.get(user=user, completed_at__isnull=True)
    return Checkout.objects.create(email=(email or "").strip().lower())


@transaction.atomic
def attach(token, user):
    """At sign-in: merge an anonymous cart into the member's open cart."""
    token = _token(token)
    anonymous = Checkout.objects.select_for_update().filter(token=token, user__isnull=True,
                                                           completed_at__isnull=True).first()
    if anonymous is None:
        raise NotFound("Checkout not found.", field="token")
    mine = Checkout.objects.select_for_update().filter(user=user, completed_at__isnull=True).first()
    if mine is None:
        anonymous.user = user
        anonymous.email = user.email
        anonymous.save(update_fields=["user", "email", "updated_at"])
        return anonymous
    for line in anonymous.lines.all():
        existing = mine.lines.filter(variant_id=line.variant_id).first()
        if existing:
            existing.quantity = min(existing.quantity + line.quantity, MAX_QUANTITY)
            existing.save(update_fields=["quantity"])
        else:
            CheckoutLine.objects.create(checkout=mine, variant_id=line.variant_id, quantity=line.quantity)
    if mine.shipping_address is None and anonymous.shipping_address:
        mine.shipping_address = anonymous.shipping_address
    mine.save()
    anonymous.delete()
    return mine


# -- lines -----------------------------------------------------------------------------
def _sellable_variant(variant_id):
    from marketplace.catalog.models import ProductVariant
    from marketplace.catalog.services import visible_products

    variant = (ProductVariant.objects.select_related("product", "product__vendor")
               .filter(pk=variant_id, is_active=True, product__in=visible_products()).first())
    if variant is None:
        raise NotFound("This product is not for sale.", field="variant_id")
    return variant


def _available(variant_id):
    from django.db.models import Sum

    from marketplace.catalog.models import Stock

    row = Stock.objects.filter(variant_id=variant_id, warehouse__is_active=True).aggregate(
        q=Sum("quantity"), r=Sum("reserved"))
    return (row["q"] or 0) - (row["r"] or 0)


def _check_quantity(quantity):
    if quantity is None or quantity < 1 or quantity > MAX_QUANTITY:
        raise ValidationError(f"Quantity must be between 1 and {MAX_QUANTITY}.", field="quantity")


@transaction.atomic
def set_line(checkout, variant_id, quantity, add=False):
    """Add units (add=True) or set the quantity of a variant; quantity 0 removes it."""
    checkout = Checkout.objects.select_for_update().get(pk=checkout.pk)
    line = checkout.lines.filter(variant_id=variant_id).first()
    new_quantity = (line.quantity if (line and add) else 0) + quantity
    if new_quantity == 0 and not add:
        if line:
            line.delete()
        return checkout
    if add:
        _check_quantity(quantity)
    _check_quantity(new_quantity)
    variant = _sellable_variant(variant_id)
    available = _available(variant.pk)
    if new_quantity > available:
        raise ValidationError(f"Only {max(available, 0)} left in stock.", code=ErrorCode.OUT_OF_STOCK, field="quantity")
    if line is None:
        if checkout.lines.count() >= MAX_LINES:
            raise ValidationError(f"A cart holds at most {MAX_LINES} different items.", code=ErrorCode.LIMIT_EXCEEDED)
        CheckoutLine.objects.create(checkout=checkout, variant=variant, quantity=new_quantity)
    else:
        line.quantity = new_quantity
        line.save(update_fields=["quantity"])
    checkout.save(update_fields=["updated_at"])
    return checkout


@transaction.atomic
def set_email(checkout, email):
    from marketplace.accounts.services import normalize_email

    checkout.email = normalize_email(email)
    checkout.save(update_fields=["email", "updated_at"])
    return checkout


@transaction.atomic
def set_shipping_address(checkout, data):
    from marketplace.accounts.services import _clean_address

    cleaned = _clean_address(data)
    cleaned.setdefault("country", "CN")
    checkout.shipping_address = cleaned
    checkout.save(update_fields=["shipping_address", "updated_at"])
    return checkout


@transaction.atomic
def set_shipping_method(checkout, vendor_id, method_id):
    method = ShippingMethod.objects.filter(pk=method_id, vendor_id=vendor_id, is_active=True).first()
    if method is None:
        raise NotFound("This vendor has no such shipping method.", field="shipping_method_id")
    if not checkout.lines.filter(variant__vendor_id=vendor_id).exists():
        raise ValidationError("The cart has nothing from this vendor.", field="vendor_id")
    CheckoutShipping.objects.update_or_create(checkout=checkout, vendor_id=vendor_id, defaults={"method": method})
    return checkout


# -- totals ------------------------------------------------------------------------------
@dataclass
class VendorPart:
    vendor: object
    lines: list  # [(line, variant, PriceExplanation)]
    subtotal: Decimal
    weight_grams: int
    method: ShippingMethod | None
    shipping: Decimal | None
    methods: list


@dataclass
class Totals:
    parts: list
    subtotal: Decimal
    shipping: Decimal | None
    total: Decimal | None
    currency: str


def shipping_cost(method, subtotal, weight_grams):
    if method.free_over is not None and subtotal >= method.free_over:
        return Decimal("0.00")
    if method.kind == ShippingMethod.WEIGHT:
        kilos = math.ceil(weight_grams / 1000) if weight_grams else 0
        return quantize(method.price + method.price_per_kg * kilos)
    return quantize(method.price)


def compute_totals(checkout, user=None, lines=None, lock_variants=False):
    """Price every line with the pipeline (one batch) and add shipping per vendor."""
    from marketplace.catalog.models import ProductVariant
    from marketplace.vendors.models import Vendor

    if lines is None:
        lines = list(checkout.lines.all())
    variants = ProductVariant.objects.select_related("product").in_bulk([l.variant_id for l in lines])
    context = PriceContext(user=user)
    prices = compute_prices([line_for_variant(v, v.product) for v in variants.values()], context)
    vendor_ids = sorted({v.vendor_id for v in variants.values()})
    vendors = Vendor.objects.in_bulk(vendor_ids)
    chosen = {c.vendor_id: c.method for c in checkout.shipping_choices.select_related("method")}
    methods = {}
    for method in ShippingMethod.objects.filter(vendor_id__in=vendor_ids, is_active=True):
        methods.setdefault(method.vendor_id, []).append(method)
    grouped = OrderedDict((vid, []) for vid in vendor_ids)
    for line in lines:
        variant = variants[line.variant_id]
        grouped[variant.vendor_id].append((line, variant, prices[variant.pk]))
    parts = []
    for vendor_id, items in grouped.items():
        subtotal = quantize(sum((p.final_price * l.quantity for l, v, p in items), Decimal("0")))
        weight = sum(v.weight_grams * l.quantity for l, v, p in items)
        method = chosen.get(vendor_id)
        cost = shipping_cost(method, subtotal, weight) if method else None
        parts.append(VendorPart(vendors[vendor_id], items, subtotal, weight, method, cost, methods.get(vendor_id, [])))
    subtotal = quantize(sum((p.subtotal for p in parts), Decimal("0")))
    shipping = None if any(p.shipping is None for p in parts) else quantize(sum((p.shipping for p in parts), Decimal("0")))
    total = None if shipping is None else subtotal + shipping
    return Totals(parts, subtotal, shipping, total, checkout.currency)


def shipping_problem(part):
    """Why a vendor's part of a cart cannot be shipped as it stands (a MarketplaceError on
    field `shipping_method`), or None: INVALID_STATE when the vendor has no active shipping
    method at all ("ships nothing yet": nothing to choose, the buyer must remove its items),
    REQUIRED when the buyer has not chosen one of its methods yet."""
    if part.method is not None:
        return None
    if not part.methods:
        return MarketplaceError(f"{part.vendor.name_zh} ships nothing yet: this vendor has no shipping method, so its "
                                "items cannot be ordered; remove them from the cart.",
                                code=ErrorCode.INVALID_STATE, field="shipping_method")
    return MarketplaceError(f"Choose a shipping method for {part.vendor.name_zh}.", code=ErrorCode.REQUIRED,
                            field="shipping_method")


# -- completion ----------------------------------------------------------------------------
def _plan(lines_by_variant, lock):
    """Which stock rows cover which units: warehouse by warehouse, in primary-key order.
    With `lock`, the rows are locked first (SELECT ... FOR UPDATE, pk order, so concurrent
    checkouts never deadlock). Raises OUT_OF_STOCK when a variant cannot be covered."""
    from marketplace.catalog.models import Stock

    stocks = Stock.objects.filter(variant_id__in=list(lines_by_variant), warehouse__is_active=True).order_by("pk")
    if lock:
        stocks = stocks.select_for_update()
    stocks = list(stocks)
    by_variant = {}
    for stock in stocks:
        by_variant.setdefault(stock.variant_id, []).append(stock)
    plan = []
    errors = []
    for variant_id, (quantity, sku) in lines_by_variant.items():
        remaining = quantity
        for stock in by_variant.get(variant_id, []):
            take = min(remaining, stock.quantity - stock.reserved)
            if take > 0:
                plan.append((variant_id, stock, take))
                remaining -= take
            if remaining == 0:
                break
        if remaining > 0:
            errors.append(MarketplaceError(f"{sku}: only {quantity - remaining} left in stock.",
                                           code=ErrorCode.OUT_OF_STOCK, field="lines"))
    if errors:
        raise ValidationError(errors=errors)
    return plan


def _apply(plan):
    """Reserve the planned units with conditional updates (never below zero available).
    Returns False when a row no longer has the units (the plan went stale)."""
    from marketplace.catalog.models import Stock

    for _variant_id, stock, take in sorted(plan, key=lambda item: item[1].pk):
        updated = Stock.objects.filter(pk=stock.pk, quantity__gte=F("reserved") + take).update(
            reserved=F("reserved") + take)
        if updated != 1:
            return False
    return True


@transaction.atomic
def complete(checkout_token, user=None):
    """Turn a checkout into an unpaid order with one sub-order per vendor, reserving the
    stock atomically. Under any concurrency there is no oversell: stock rows are locked
    and reserved inside this transaction."""
    from marketplace.orders import services as orders

    checkout = get_checkout(checkout_token, user, lock=True)
    lines = list(checkout.lines.all())
    if not lines:
        raise ValidationError("The cart is empty.", code=ErrorCode.INVALID_STATE, field="lines")
    errors = []
    if not (checkout.email or (user and user.is_authenticated)):
        errors.append(MarketplaceError("An e-mail address is required.", code=ErrorCode.REQUIRED, field="email"))
    if not checkout.shipping_address:
        errors.append(MarketplaceError("A shipping address is required.", code=ErrorCode.REQUIRED, field="shipping_address"))
    totals = compute_totals(checkout, user=user, lines=lines)
    from marketplace.catalog.services import visible_products

    sellable = set(visible_products().filter(variants__in=[l.variant_id for l in lines], variants__is_active=True)
                   .values_list("variants__id", flat=True))
    for part in totals.parts:
        for line, variant, _price in part.lines:
            if variant.pk not in sellable:
                errors.append(MarketplaceError(f"{variant.sku} is no longer for sale; remove it from the cart.",
                                               code=ErrorCode.NOT_FOUND, field="lines"))
        if part.vendor.status != "approved":
            errors.append(MarketplaceError(f"{part.vendor.name_zh} is not selling now.", code=ErrorCode.INVALID_STATE,
                                           field="lines"))
        problem = shipping_problem(part)
        if problem is not None:
            errors.append(problem)
    if errors:
        raise ValidationError(errors=errors)
    from marketplace.plugins.manager import get_manager

    context = PriceContext(user=user)
    get_manager().call_all("checkout_validate", checkout=checkout,
                           lines=[(v, l.quantity, p) for part in totals.parts for l, v, p in part.lines],
                           context=context)
    wanted = {l.variant_id: (l.quantity, v.sku) for part in totals.parts for l, v, p in part.lines}
    # Write the order first from a plan made without locks, then reserve as the last
    # statements before commit: the hot stock rows stay locked only for those updates.
    plan = _plan(wanted, lock=False)
    order = orders.create_order(checkout, totals, plan, user=user)
    checkout.completed_at = timezone.now()
    checkout.save(update_fields=["completed_at", "updated_at"])
    with transaction.atomic():
        applied = _apply(plan)
        if not applied:
            transaction.set_rollback(True)  # undo any partial reservation of the stale plan
    if not applied:  # another checkout took those units meanwhile: lock, re-plan, re-allocate
        plan = _plan(wanted, lock=True)
        orders.replace_allocations(order, plan)
        if not _apply(plan):
            raise ValidationError("Stock changed; try again.", code=ErrorCode.OUT_OF_STOCK, field="lines")
    from marketplace.catalog.services import refresh_summaries

    product_ids = {v.product_id for part in totals.parts for _l, v, _p in part.lines}
    transaction.on_commit(lambda: refresh_summaries(product_ids))
    return order


def payment_timeout():
    return timezone.timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES)

