"""Plans, partners and partner codes, kept by platform staff. Every amount is checked
(finite, not negative, 2 places at most) and every refusal names its field; a refused
change writes nothing.

`data` dicts use the model's field names; only the keys given change (an update).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from marketplace.plugins import clock
from marketplace.plugins.errors import ErrorCode, MarketplaceError, NotFound, ValidationError

from .. import lookups
from ..models import MembershipPlan, Partner, PartnerCode
from .codes import normalize

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")
PLAN_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_AMOUNT = Decimal("100000")


def amount(value, field, *, allow_zero=True, maximum=MAX_AMOUNT) -> Decimal:
    """A money amount from client input: finite, >= 0 (> 0 unless `allow_zero`), at most
    two decimal places and `maximum`. Raises ValidationError naming `field`."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError("Not an amount.", field=field) from None
    if not number.is_finite():
        raise ValidationError("Give a finite amount (not NaN or Infinity).", field=field)
    if number < 0 or (number == 0 and not allow_zero):
        raise ValidationError("Give a positive amount." if not allow_zero else "The amount cannot be negative.",
                              field=field)
    if number > maximum:
        raise ValidationError(f"At most {maximum}.", field=field)
    if number != number.quantize(Decimal("0.01")):
        raise ValidationError("At most two decimal places.", field=field)
    return number.quantize(Decimal("0.01"))


def percent(value, field, *, allow_zero=True) -> Decimal:
    number = amount(value, field, allow_zero=allow_zero, maximum=Decimal("100"))
    return number


def _int(value, field, low, high) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"Give a whole number from {low} to {high}.", field=field)
    return value


def _text(value, field, limit, required=False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError("Required.", code=ErrorCode.REQUIRED, field=field)
    if len(text) > limit:
        raise ValidationError(f"At most {limit} characters.", field=field)
    return text


# -- plans -------------------------------------------------------------------------------------
@transaction.atomic
def save_plan(data, plan_id=None) -> MembershipPlan:
    """Create (no `plan_id`) or change a plan. Fields: code (new plans; lower-case letters,
    digits, hyphens), name_zh, name_en, price (CNY), term_months (1-60),
    parts_discount_percent, labour_discount_percent (0-100), free_towing_per_term (0-50),
    free_towing_km (0-1000), is_active, position. Raises NotFound (field "id"),
    ValidationError (REQUIRED, INVALID, UNIQUE code)."""
    if plan_id is None:
        plan = MembershipPlan()
        code = _text(data.get("code"), "code", 40, required=True).lower()
        if not PLAN_CODE.match(code):
            raise ValidationError("Use lower-case letters, digits and hyphens.", field="code")
        plan.code = code
        for name in ("name_zh", "price"):
            if data.get(name) is None:
                raise ValidationError("Required.", code=ErrorCode.REQUIRED, field=name)
    else:
        plan = MembershipPlan.objects.select_for_update().filter(pk=plan_id).first()
        if plan is None:
            raise NotFound("Plan not found.", field="id")
        if data.get("code") is not None and data["code"].strip().lower() != plan.code:
            raise ValidationError("A plan's code cannot change (carts and orders refer to it).", field="code")
    errors = []
    checks = {
        "name_zh": lambda v: _text(v, "name_zh", 100, required=True),
        "name_en": lambda v: _text(v, "name_en", 100),
        "price": lambda v: amount(v, "price"),
        "term_months": lambda v: _int(v, "term_months", 1, 60),
        "parts_discount_percent": lambda v: percent(v, "parts_discount_percent"),
        "labour_discount_percent": lambda v: percent(v, "labour_discount_percent"),
        "free_towing_per_term": lambda v: _int(v, "free_towing_per_term", 0, 50),
        "free_towing_km": lambda v: _int(v, "free_towing_km", 0, 1000),
        "is_active": bool,
        "position": lambda v: _int(v, "position", 0, 1000),
    }
    for name, check in checks.items():
        if data.get(name) is None:
            continue
        try:
            setattr(plan, name, check(data[name]))
        except MarketplaceError as exc:
            errors += exc.as_list()
    if errors:
        raise ValidationError(errors=errors)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        raise ValidationError(f"A plan with the code {plan.code} exists.", code=ErrorCode.UNIQUE,
                              field="code") from None
    lookups.forget()
    return plan


# -- partners ---------------------------------------------------------------------------------
@transaction.atomic
def save_partner(data, partner_id=None) -> Partner:
    """Create or change a partner (name_zh required; name_en, kind, contact_name,
    contact_phone, contact_email, settlement_terms, is_active). Raises NotFound (field
    "id"), ValidationError."""
    if partner_id is None:
        partner = Partner()
        if data.get("name_zh") is None:
            raise ValidationError("Required.", code=ErrorCode.REQUIRED, field="name_zh")
    else:
        partner = Partner.objects.select_for_update().filter(pk=partner_id).first()
        if partner is None:
            raise NotFound("Partner not found.", field="id")
    limits = {"name_zh": 100, "name_en": 100, "kind": 30, "contact_name": 60, "contact_phone": 30,
              "contact_email": 254, "settlement_terms": 2000}
    errors = []
    for name, limit in limits.items():
        if data.get(name) is None:
            continue
        try:
            setattr(partner, name, _text(data[name], name, limit, required=name in ("name_zh", "kind")))
        except MarketplaceError as exc:
            errors += exc.as_list()
    if partner.contact_email and "@" not in partner.contact_email:
        errors.append(MarketplaceError("Not an e-mail address.", field="contact_email"))
    if errors:
        raise ValidationError(errors=errors)
    if data.get("is_active") is not None:
        partner.is_active = bool(data["is_active"])
    partner.save()
    return partner


# -- codes ---------------------------------------------------------------------------------------
@transaction.atomic
def save_code(data, partner_id=None, code_id=None) -> PartnerCode:
    """Create a code for a partner (`partner_id`) or change one (`code_id`). Fields: code
    (new codes; 3-40 of A-Z, 0-9, - and _; stored upper-case), exactly one of
    discount_percent (0-100, > 0) or discount_amount (CNY, > 0), valid_from (default now),
    valid_until (after valid_from, or None for no end), max_redemptions (>= 1, or None for
    no limit; never below the uses already taken), first_term_only, is_active. Raises
    NotFound (field "partner_id"/"id"), ValidationError (REQUIRED, INVALID, UNIQUE)."""
    if code_id is None:
        partner = Partner.objects.filter(pk=partner_id).first()
        if partner is None:
            raise NotFound("Partner not found.", field="partner_id")
        code = PartnerCode(partner=partner, valid_from=clock.now())
        text = normalize(data.get("code"))
        if not text:
            raise ValidationError("Required.", code=ErrorCode.REQUIRED, field="code")
        if not CODE.match(text):
            raise ValidationError("3 to 40 letters, digits, hyphens or underscores.", field="code")
        code.code = text
    else:
        code = PartnerCode.objects.select_for_update().filter(pk=code_id).first()
        if code is None:
            raise NotFound("Partner code not found.", field="id")
        if data.get("code") is not None and normalize(data["code"]) != code.code:
            raise ValidationError("A code's text cannot change; create a new code.", field="code")
    errors = []
    given_percent, given_amount = data.get("discount_percent"), data.get("discount_amount")
    if given_percent is not None and given_amount is not None:
        errors.append(MarketplaceError("Give a percentage or an amount, not both.", field="discount_amount"))
    else:
        try:
            if given_percent is not None:
                code.discount_percent, code.discount_amount = percent(given_percent, "discount_percent",
                                                                      allow_zero=False), None
            elif given_amount is not None:
                code.discount_amount, code.discount_percent = amount(given_amount, "discount_amount",
                                                                     allow_zero=False), None
            elif code_id is None:
                errors.append(MarketplaceError("Give discount_percent or discount_amount.", code=ErrorCode.REQUIRED,
                                               field="discount_percent"))
        except MarketplaceError as exc:
            errors += exc.as_list()
    for name in ("valid_from", "valid_until"):
        if name in data and (data[name] is not None or name == "valid_until"):
            value = data[name]
            if value is not None and (not hasattr(value, "tzinfo") or value.tzinfo is None):
                errors.append(MarketplaceError("Give a date-time with its time zone.", field=name))
                continue
            setattr(code, name, value)
    if code.valid_until is not None and code.valid_until <= code.valid_from:
        errors.append(MarketplaceError("The end must come after the start.", field="valid_until"))
    if "max_redemptions" in data:
        cap = data["max_redemptions"]
        if cap is not None:
            try:
                cap = _int(cap, "max_redemptions", 1, 10_000_000)
            except MarketplaceError as exc:
                errors += exc.as_list()
                cap = code.max_redemptions
            else:
                if cap < code.held_count + code.redeemed_count:
                    errors.append(MarketplaceError(
                        f"{code.held_count + code.redeemed_count} uses are already taken; the limit cannot be lower.",
                        field="max_redemptions"))
                    cap = code.max_redemptions
        code.max_redemptions = cap
    for name in ("first_term_only", "is_active"):
        if data.get(name) is not None:
            setattr(code, name, bool(data[name]))
    if errors:
        raise ValidationError(errors=errors)
    try:
        with transaction.atomic():
            code.save()
    except IntegrityError:
        raise ValidationError(f"The code {code.code} exists.", code=ErrorCode.UNIQUE, field="code") from None
    return code


@transaction.atomic
def set_price_exclusion(product_id, excluded) -> bool:
    """A vendor excludes one of its products from member prices (or includes it again).
    The caller checks the vendor's role. Re-prices listings through `touch_product`."""
    from marketplace.plugins.catalog import touch_product

    from ..models import MemberPriceExclusion

    if excluded:
        MemberPriceExclusion.objects.get_or_create(product_id=product_id)
    else:
        MemberPriceExclusion.objects.filter(product_id=product_id).delete()
    lookups.forget_exclusions()
    touch_product(product_id)
    return bool(excluded)
