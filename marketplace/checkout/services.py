"""Carts: lines (catalog variants and plugin lines), e-mail, address, shipping choice,
and merging an anonymous cart at sign-in. Totals live in `totals.py`, completion into an
order in `completion.py`. Every service owns its transaction.

Errors about one input line name it: the field is `lines.<index>.<name>` (0-based index
in the list the client sent), e.g. `lines.1.quantity` with code OUT_OF_STOCK.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum

from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound, ValidationError

from .kinds import get_kind
from .models import PRODUCT_LINE, Checkout, CheckoutDelivery, CheckoutLine, CheckoutShipping, ShippingMethod

MAX_QUANTITY = 999
MAX_LINES = 100


@dataclass(frozen=True)
class LineInput:
    """One line a client asks for: a catalog variant, or a plugin line (`kind`,
    `reference`, `metadata`)."""

    variant_id: int | None = None
    quantity: int = 1
    kind: str = PRODUCT_LINE
    reference: str = ""
    metadata: dict | None = None


# -- access ----------------------------------------------------------------------------
def parse_token(token):
    """The checkout token as a UUID; NotFound (field "token") for anything else."""
    try:
        return uuid.UUID(str(token))
    except (ValueError, AttributeError, TypeError):
        raise NotFound("Checkout not found.", field="token") from None


def get_checkout(token, user=None, lock=False) -> Checkout:
    """The open checkout with this token, if the caller may use it: an anonymous cart by
    its token; a member's cart only by that member. Raises NotFound (field "token")."""
    token = parse_token(token)
    qs = Checkout.objects.select_for_update() if lock else Checkout.objects
    checkout = qs.filter(token=token, completed_at__isnull=True).first()
    if checkout is None:
        raise NotFound("Checkout not found.", field="token")
    if checkout.user_id is not None and (user is None or not user.is_authenticated or user.pk != checkout.user_id):
        raise NotFound("Checkout not found.", field="token")
    return checkout


def member_checkout(user) -> Checkout | None:
    """The member's open cart (at most one exists), or None."""
    return Checkout.objects.filter(user=user, completed_at__isnull=True).first()


def _open_cart(user, email):
    if user is not None and user.is_authenticated:
        existing = Checkout.objects.select_for_update().filter(user=user, completed_at__isnull=True).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                checkout = Checkout.objects.create(user=user, email=user.email)
                checkout._fresh = True  # created in this transaction: no lines, no other holder
                return checkout
        except IntegrityError:  # created concurrently
            return Checkout.objects.select_for_update().get(user=user, completed_at__isnull=True)
    if email:
        from marketplace.accounts.services import normalize_email

        email = normalize_email(email)
    checkout = Checkout.objects.create(email=email or "")
    checkout._fresh = True
    return checkout


@transaction.atomic
def create_checkout(user=None, email="", lines=()) -> Checkout:
    """Start a cart (a member's existing open cart is reused) and add `lines` (LineInput).
    All or nothing: a bad line refuses the whole call, each error naming its line."""
    checkout = _open_cart(user, email)
    if lines:
        _add_lines(checkout, lines, user=user, add=True, fresh=getattr(checkout, "_fresh", False))
    return checkout


# -- lines -----------------------------------------------------------------------------
def _sellable_variants(variant_ids):
    from marketplace.catalog.models import ProductVariant
    from marketplace.catalog.services import visible_products

    return (ProductVariant.objects.select_related("product", "product__vendor", "product__product_type")
            .filter(pk__in=variant_ids, is_active=True, product__in=visible_products()).in_bulk())


def available(variant_ids) -> dict[int, int]:
    """{variant_id: units that can still be sold} over active warehouses."""
    from marketplace.catalog.models import Stock

    rows = (Stock.objects.filter(variant_id__in=variant_ids, warehouse__is_active=True)
            .values("variant_id").annotate(q=Sum("quantity"), r=Sum("reserved")))
    found = {row["variant_id"]: (row["q"] or 0) - (row["r"] or 0) for row in rows}
    return {variant_id: found.get(variant_id, 0) for variant_id in variant_ids}


def _quantity_error(quantity, field):
    if quantity is None or quantity < 1 or quantity > MAX_QUANTITY:
        return MarketplaceError(f"Quantity must be between 1 and {MAX_QUANTITY}.", field=field)
    return None


def _check_product_lines(wanted, field_of):
    """Check catalog lines {variant_id: new total quantity}: sellable, in stock. Returns
    (variants, errors)."""
    variants = _sellable_variants(list(wanted))
    stock = available([v for v, variant in variants.items() if variant.track_inventory])
    errors = []
    for variant_id, quantity in wanted.items():
        variant = variants.get(variant_id)
        if variant is None:
            errors.append(MarketplaceError("This product is not for sale.", code=ErrorCode.NOT_FOUND,
                                           field=field_of(variant_id, "variant_id")))
        elif variant.track_inventory and quantity > stock[variant_id]:
            errors.append(MarketplaceError(f"{variant.sku}: only {max(stock[variant_id], 0)} left in stock.",
                                           code=ErrorCode.OUT_OF_STOCK, field=field_of(variant_id, "quantity")))
    return variants, errors


def _plugin_line(checkout, item, user, field):
    """Validate a plugin line and return (kind, description, metadata)."""
    kind = get_kind(item.kind, field=f"{field}.kind")
    try:
        description = kind.describe(item.reference)
        metadata = kind.clean_metadata(item.reference, dict(item.metadata or {}), user)
    except MarketplaceError as exc:
        for error in exc.as_list():
            error.field = f"{field}.{error.field or 'reference'}"
        raise
    if item.quantity > kind.max_quantity:
        raise ValidationError(f"At most {kind.max_quantity} of this per order.", field=f"{field}.quantity")
    return kind, description, metadata


@transaction.atomic
def add_lines(checkout, lines, user=None, add=True) -> Checkout:
    """Add units of each line (`add=True`) or set their quantities (`add=False`, where 0
    removes a line). All or nothing; errors name `lines.<index>`. Raises ValidationError
    (INVALID quantity, NOT_FOUND product, OUT_OF_STOCK, LIMIT_EXCEEDED lines)."""
    return _add_lines(checkout, lines, user=user, add=add)


def _add_lines(checkout, lines, user=None, add=True, fresh=False):
    """add_lines() inside the caller's transaction. `fresh`: the checkout was created in
    this transaction (it has no lines and no one else can see it: nothing to lock or read)."""
    if fresh:
        existing, plugin_lines, line_count = {}, {}, 0
    else:
        checkout = Checkout.objects.select_for_update().get(pk=checkout.pk)
        existing = {line.variant_id: line for line in checkout.lines.filter(variant__isnull=False)}
        plugin_lines = {(line.kind, line.reference): line for line in checkout.lines.filter(variant__isnull=True)}
        line_count = None
    errors, wanted, index_of = [], {}, {}
    for index, item in enumerate(lines):
        field = f"lines.{index}"
        if item.kind != PRODUCT_LINE:
            continue
        if item.variant_id is None:
            errors.append(MarketplaceError("Give a variant.", code=ErrorCode.REQUIRED, field=f"{field}.variant_id"))
            continue
        if add or item.quantity != 0:
            error = _quantity_error(item.quantity, f"{field}.quantity")
            if error:
                errors.append(error)
                continue
        current = existing[item.variant_id].quantity if item.variant_id in existing else 0
        base = wanted.get(item.variant_id, current) if add else 0
        wanted[item.variant_id] = base + item.quantity
        index_of[item.variant_id] = index
        if wanted[item.variant_id] > MAX_QUANTITY:
            errors.append(MarketplaceError(f"Quantity must be between 1 and {MAX_QUANTITY}.", field=f"{field}.quantity"))
    keep = {v: q for v, q in wanted.items() if q > 0}
    variants, stock_errors = _check_product_lines(keep, lambda v, name: f"lines.{index_of[v]}.{name}")
    errors += stock_errors
    prepared = []
    for index, item in enumerate(lines):
        if item.kind == PRODUCT_LINE:
            continue
        try:
            prepared.append((item, *_plugin_line(checkout, item, user, f"lines.{index}")))
        except MarketplaceError as exc:
            errors += exc.as_list()
    if errors:
        raise ValidationError(errors=errors)
    new_count = len([v for v in keep if v not in existing]) + len(
        [p for p in prepared if (p[0].kind, p[0].reference) not in plugin_lines])
    if (line_count if line_count is not None else checkout.lines.count()) + new_count > MAX_LINES:
        raise ValidationError(f"A cart holds at most {MAX_LINES} different items.", code=ErrorCode.LIMIT_EXCEEDED,
                              field="lines")
    new_lines = []
    for variant_id, quantity in wanted.items():
        line = existing.get(variant_id)
        if quantity == 0:
            if line:
                line.delete()
        elif line is None:
            new_lines.append(CheckoutLine(checkout=checkout, variant=variants[variant_id],
                                          vendor_id=variants[variant_id].vendor_id, quantity=quantity))
        else:
            line.quantity = quantity
            line.save(update_fields=["quantity"])
    for item, kind, description, metadata in prepared:
        line = plugin_lines.get((item.kind, item.reference))
        data = {"quantity": item.quantity, "vendor_id": description.seller_id,
                "metadata": {kind.plugin: metadata} if metadata else {}}
        if line is None:
            new_lines.append(CheckoutLine(checkout=checkout, kind=item.kind, reference=item.reference, **data))
        else:
            for name, value in data.items():
                setattr(line, name, value)
            line.save(update_fields=list(data))
    if new_lines:
        CheckoutLine.objects.bulk_create(new_lines)  # one statement, in the order given
    if not fresh:
        checkout.save(update_fields=["updated_at"])
    return checkout


def set_line(checkout, variant_id, quantity, add=False, user=None) -> Checkout:
    """Add units (add=True) or set the quantity of one variant; quantity 0 removes it."""
    if not add and quantity < 0:
        raise ValidationError("Quantity cannot be negative.", field="quantity")
    try:
        return add_lines(checkout, [LineInput(variant_id=int(variant_id), quantity=quantity)], user=user, add=add)
    except ValidationError as exc:
        for error in exc.as_list():  # one line: name the argument, not the list
            error.field = (error.field or "").replace("lines.0.", "") or None
        raise


@transaction.atomic
def remove_line(checkout, line_id) -> Checkout:
    """Remove a cart line by its id (any kind). Raises NotFound (field "line_id")."""
    deleted, _ = CheckoutLine.objects.filter(checkout=checkout, pk=line_id).delete()
    if not deleted:
        raise NotFound("No such line in this cart.", field="line_id")
    checkout.save(update_fields=["updated_at"])
    return checkout


@transaction.atomic
def set_line_metadata(checkout, line_id, namespace, data) -> CheckoutLine:
    """Store plugin data on a cart line under `namespace` (the plugin's name); None removes
    it. Copied to the order line at completion. Raises NotFound."""
    line = CheckoutLine.objects.select_for_update().filter(checkout=checkout, pk=line_id).first()
    if line is None:
        raise NotFound("No such line in this cart.", field="line_id")
    metadata = dict(line.metadata or {})
    if data is None:
        metadata.pop(namespace, None)
    else:
        metadata[namespace] = data
    line.metadata = metadata
    line.save(update_fields=["metadata"])
    return line


@transaction.atomic
def set_checkout_metadata(checkout, namespace, data) -> Checkout:
    """Store plugin data on the cart under `namespace`; None removes it."""
    checkout = Checkout.objects.select_for_update().get(pk=checkout.pk)
    metadata = dict(checkout.metadata or {})
    if data is None:
        metadata.pop(namespace, None)
    else:
        metadata[namespace] = data
    checkout.metadata = metadata
    checkout.save(update_fields=["metadata", "updated_at"])
    return checkout


@transaction.atomic
def set_email(checkout, email) -> Checkout:
    from marketplace.accounts.services import normalize_email

    checkout.email = normalize_email(email)
    checkout.save(update_fields=["email", "updated_at"])
    return checkout


@transaction.atomic
def set_shipping_address(checkout, data) -> Checkout:
    from marketplace.accounts.services import clean_address

    cleaned = clean_address(data)
    cleaned.setdefault("country", "CN")
    checkout.shipping_address = cleaned
    checkout.save(update_fields=["shipping_address", "updated_at"])
    return checkout


@transaction.atomic
def set_shipping_method(checkout, vendor_id, method_id) -> Checkout:
    """Choose one vendor's shipping method. Raises NotFound (field "shipping_method_id"),
    ValidationError (the cart holds nothing of this vendor that ships)."""
    method = ShippingMethod.objects.filter(pk=method_id, vendor_id=vendor_id, is_active=True).first()
    if method is None:
        raise NotFound("This vendor has no such shipping method.", field="shipping_method_id")
    if not checkout.lines.filter(vendor_id=vendor_id).exists():
        raise ValidationError("The cart has nothing from this vendor.", field="vendor_id")
    # One upsert (INSERT .. ON CONFLICT DO UPDATE), not a locked read and a write in savepoints.
    CheckoutShipping.objects.bulk_create([CheckoutShipping(checkout=checkout, vendor_id=vendor_id, method=method)],
                                         update_conflicts=True, unique_fields=["checkout", "vendor"],
                                         update_fields=["method"])
    checkout.save(update_fields=["updated_at"])
    return checkout


@transaction.atomic
def set_delivery_address(checkout, vendor_id, address, label="", owner="") -> CheckoutDelivery:
    """Send one seller's goods of this cart to `address` (a postal address dict, cleaned
    like the cart's own) instead of the cart's shipping address, e.g. "deliver to
    installer". `label` is shown to the buyer and the seller; `owner` names the plugin.
    Replaces an earlier one for the seller. Raises ValidationError (the address fields;
    INVALID vendor_id when the cart holds nothing of this seller that ships)."""
    from marketplace.accounts.services import clean_address

    if not checkout.lines.filter(vendor_id=vendor_id, variant__product__product_type__requires_shipping=True).exists():
        raise ValidationError("The cart holds nothing of this seller that ships.", field="vendor_id")
    cleaned = clean_address(dict(address or {}))
    cleaned.setdefault("country", "CN")
    delivery, _ = CheckoutDelivery.objects.update_or_create(
        checkout=checkout, vendor_id=vendor_id,
        defaults={"address": cleaned, "label": (label or "").strip()[:200], "owner": (owner or "")[:60]})
    checkout.save(update_fields=["updated_at"])
    return delivery


@transaction.atomic
def clear_delivery_address(checkout, vendor_id=None, owner=None) -> int:
    """Send a seller's goods (all sellers' when `vendor_id` is None) to the cart's address
    again; with `owner`, only the redirections that plugin set. Returns how many were cleared."""
    qs = CheckoutDelivery.objects.filter(checkout=checkout)
    if vendor_id is not None:
        qs = qs.filter(vendor_id=vendor_id)
    if owner is not None:
        qs = qs.filter(owner=owner)
    deleted, _ = qs.delete()
    if deleted:
        checkout.save(update_fields=["updated_at"])
    return deleted


# -- vendors' shipping methods ---------------------------------------------------------------
@transaction.atomic
def save_shipping_method(method, data) -> ShippingMethod:
    """Create or change a vendor's shipping method from input `data` (name_zh, name_en,
    kind "flat"/"weight", price, price_per_kg, free_over: Decimals in CNY, is_active).
    Raises ValidationError (REQUIRED name/price, INVALID negative or non-finite amounts)."""
    from decimal import Decimal

    for name in ("name_zh", "name_en"):
        if data.get(name) is not None:
            setattr(method, name, data[name].strip()[:100])
    if not method.name_zh:
        raise ValidationError("A name is required.", code=ErrorCode.REQUIRED, field="name_zh")
    if data.get("kind") is not None:
        method.kind = getattr(data["kind"], "value", data["kind"])
    for name in ("price", "price_per_kg", "free_over"):
        if data.get(name) is not None:
            value = Decimal(data[name])
            if not value.is_finite() or value < 0 or value > Decimal("9999999999.99"):
                raise ValidationError("Must be a finite amount, not negative.", field=name)
            setattr(method, name, value.quantize(Decimal("0.01")))
    if method.price is None:
        raise ValidationError("A price is required.", code=ErrorCode.REQUIRED, field="price")
    if data.get("is_active") is not None:
        method.is_active = data["is_active"]
    method.save()
    return method


# -- sign-in ------------------------------------------------------------------------------
@transaction.atomic
def attach(token, user):
    """At sign-in: merge an anonymous cart into the member's open cart (or make it the
    member's cart when they have none), line by line with the checks adding makes (for
    sale, in stock, quantity and line limits). Returns (checkout, problems): lines that
    could not come along entirely are clamped to what is in stock or left out, each problem
    an error naming the anonymous cart's line (`lines.<index>`). Raises NotFound (field
    "token")."""
    token = parse_token(token)
    anonymous = Checkout.objects.select_for_update().filter(token=token, user__isnull=True,
                                                           completed_at__isnull=True).first()
    if anonymous is None:
        raise NotFound("Checkout not found.", field="token")
    mine = Checkout.objects.select_for_update().filter(user=user, completed_at__isnull=True).first()
    incoming = list(anonymous.lines.order_by("pk"))
    if mine is None:  # the anonymous cart becomes the member's, its lines checked in place
        anonymous.user = user
        anonymous.email = user.email
        anonymous.save(update_fields=["user", "email", "updated_at"])
        mine = anonymous
        CheckoutLine.objects.filter(pk__in=[line.pk for line in incoming]).delete()
    problems = _merge_lines(mine, incoming)
    if mine.pk != anonymous.pk:
        if mine.shipping_address is None and anonymous.shipping_address:
            mine.shipping_address = anonymous.shipping_address
        mine.metadata = {**(anonymous.metadata or {}), **(mine.metadata or {})}
        mine.save()
        anonymous.delete()
    return mine, problems


def _merge_lines(mine, incoming):
    problems = []
    current = {line.variant_id: line for line in mine.lines.filter(variant__isnull=False)}
    current_plugin = {(line.kind, line.reference) for line in mine.lines.filter(variant__isnull=True)}
    count = mine.lines.count()
    product_lines = [(i, line) for i, line in enumerate(incoming) if line.variant_id is not None]
    variants = _sellable_variants([line.variant_id for _, line in product_lines])
    stock = available([v for v, variant in variants.items() if variant.track_inventory])
    for index, line in product_lines:
        field = f"lines.{index}"
        variant = variants.get(line.variant_id)
        if variant is None:
            problems.append(MarketplaceError("This product is no longer for sale; it was left out.",
                                             code=ErrorCode.NOT_FOUND, field=f"{field}.variant_id"))
            continue
        existing = current.get(line.variant_id)
        have = existing.quantity if existing else 0
        quantity = min(have + line.quantity, MAX_QUANTITY)
        if variant.track_inventory and quantity > stock[line.variant_id]:
            quantity = max(stock[line.variant_id], have)
            problems.append(MarketplaceError(f"{variant.sku}: only {max(stock[line.variant_id], 0)} left in stock; "
                                             f"the cart now holds {quantity}.", code=ErrorCode.OUT_OF_STOCK,
                                             field=f"{field}.quantity"))
        if existing is not None:
            if quantity != existing.quantity:
                existing.quantity = quantity
                existing.save(update_fields=["quantity"])
            continue
        if quantity <= 0:
            continue
        if count >= MAX_LINES:
            problems.append(MarketplaceError(f"A cart holds at most {MAX_LINES} different items; this one was left out.",
                                             code=ErrorCode.LIMIT_EXCEEDED, field=field))
            continue
        current[line.variant_id] = CheckoutLine.objects.create(
            checkout=mine, variant=variant, vendor_id=variant.vendor_id, quantity=quantity, metadata=line.metadata)
        count += 1
    for index, line in enumerate(incoming):
        if line.variant_id is not None or (line.kind, line.reference) in current_plugin:
            continue
        try:
            get_kind(line.kind)
            if count >= MAX_LINES:
                raise ValidationError(f"A cart holds at most {MAX_LINES} different items.",
                                      code=ErrorCode.LIMIT_EXCEEDED)
        except MarketplaceError as exc:
            problems.append(MarketplaceError(exc.message + " It was left out.", code=exc.code, field=f"lines.{index}"))
            continue
        CheckoutLine.objects.create(checkout=mine, kind=line.kind, reference=line.reference, vendor_id=line.vendor_id,
                                    quantity=line.quantity, metadata=line.metadata)
        current_plugin.add((line.kind, line.reference))
        count += 1
    return problems
