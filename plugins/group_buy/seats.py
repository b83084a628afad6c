"""Deal lines in carts: the deal price, the checks before completion, and the seat (or
the new group's share of the cap) claimed inside the completion transaction.

A deal line is a catalog line of the deal's variant whose metadata carries
`{"group_buy": {"deal": <id>, "share_code": <code or null>}}` (no share code: the buyer
opens a new group). Only `prepare_checkout` writes it; the cart then holds that line only.
"""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from marketplace.plugins import ErrorCode, MarketplaceError, NotFound, ValidationError
from marketplace.plugins import clock

from . import deals
from .codes import normalize_share_code
from .models import ACTIVE_MEMBER, Deal, DealStatus, Group, GroupStatus, Member, MemberStatus

PLUGIN = deals.PLUGIN


def meta_of(line):
    """The group-buy metadata of a cart or order line, or None."""
    data = (line.metadata or {}).get(PLUGIN)
    return data if isinstance(data, dict) and data.get("deal") else None


# -- pricing -----------------------------------------------------------------------------------
def price_adjustments(lines, context):
    """The deal price on deal lines: an EXCLUSIVE adjustment (member, VIP and coupon
    prices do not apply), funded by the vendor. One query per batch; nothing for lines
    without deal metadata (listings)."""
    from marketplace.plugins.pricing import EXCLUSIVE, VENDOR, PriceAdjustment

    wanted = {}
    for line in lines:
        meta = meta_of(line)
        if meta is not None and line.variant_id is not None:
            wanted[line.key] = (int(meta["deal"]), line.variant_id)
    if not wanted:
        return None
    found = Deal.objects.in_bulk({deal_id for deal_id, _ in wanted.values()})
    now = context.now or clock.now()
    result = {}
    for key, (deal_id, variant_id) in wanted.items():
        deal = found.get(deal_id)
        if deal is None or deal.variant_id != variant_id or not priced(deal, now):
            continue
        label = f"{deal.group_size}人团 Group deal" if deal.group_size > 1 else "团购券 Voucher deal"
        result[key] = [PriceAdjustment(f"deal:{deal.pk}", label, price=deal.deal_price, kind="deal",
                                       stacking=EXCLUSIVE, funded_by=VENDOR)]
    return result


def priced(deal, now):
    """Whether the deal price applies now: the deal is live (or sold out, for joins to its
    forming groups) between its dates."""
    return deal.status in (DealStatus.LIVE, DealStatus.SOLD_OUT) and deal.starts_at <= now < deal.ends_at


# -- before completion -------------------------------------------------------------------------
def _check_user(deal, user_id, field):
    """Per-user limit and new-customers-only (inside or outside a transaction)."""
    from marketplace.plugins.orders import has_paid_order

    taken = Member.objects.filter(deal=deal, user_id=user_id, status__in=ACTIVE_MEMBER).count()
    if taken >= deal.per_user_limit:
        raise ValidationError(f"You already take part in this deal {taken} time(s), the most it allows.",
                              code=ErrorCode.LIMIT_EXCEEDED, field=field)
    if deal.new_customers_only and has_paid_order(user_id, deal.vendor_id):
        raise ValidationError("This deal is for new customers of the shop.", code=ErrorCode.PERMISSION_DENIED,
                              field=field)


def _check_open(deal, now, field="deal_id"):
    if deal.status == DealStatus.SOLD_OUT:
        raise ValidationError("This deal is sold out: no new groups.", code=ErrorCode.SOLD_OUT, field=field)
    if not deals.is_open(deal, now):
        raise ValidationError("This deal is not open.", code=ErrorCode.GROUP_CLOSED, field=field)


def _check_join(group, user_id, now, field):
    if group.status != GroupStatus.FORMING or group.expires_at <= now:
        raise ValidationError("This group is closed.", code=ErrorCode.GROUP_CLOSED, field=field)
    if group.leader_id == user_id:
        raise ValidationError("This is your own group: share its code instead.", code=ErrorCode.INVALID, field=field)
    if Member.objects.filter(group=group, user_id=user_id, status__in=ACTIVE_MEMBER).exists():
        raise ValidationError("You are already in this group.", code=ErrorCode.LIMIT_EXCEEDED, field=field)
    if group.paid_count + group.held_count >= group.size:
        raise ValidationError("This group is full.", code=ErrorCode.GROUP_FULL, field=field)


def find_group(share_code=None, group_id=None):
    """The group named by a share code (field share_code) or an ID. Raises NotFound."""
    if share_code is not None:
        code = normalize_share_code(share_code)
        group = Group.objects.select_related("deal").filter(share_code=code).first() if code else None
        if group is None:
            raise NotFound("No group has this share code.", field="share_code")
        return group
    group = Group.objects.select_related("deal").filter(pk=group_id).first()
    if group is None:
        raise NotFound("Group not found.", field="group_id")
    return group


def prepare_checkout(*, user, deal_id=None, share_code=None, group_id=None, quantity=1):
    """Put a deal line into the member's cart: open a new group of `deal_id`, or join the
    group named by `share_code` / `group_id`. The cart must hold nothing else (a group
    order is its own order). Returns the cart (the `Checkout` API type's object). The checks are repeated under locks
    at completion. Raises NotFound (deal_id, share_code, group_id), ValidationError:
    GROUP_FULL, GROUP_CLOSED, SOLD_OUT, LIMIT_EXCEEDED (a second join, per-user limit),
    INVALID (own group, quantity), PERMISSION_DENIED (new customers only), INVALID_STATE
    (other items in the cart), ENTITLEMENT_REQUIRED / PLUGIN_DISABLED (the shop's plan)."""
    from marketplace.plugins.checkout import add_line, cart_line_refs, open_cart, set_line_metadata

    now = clock.now()
    if share_code is not None or group_id is not None:
        field = "share_code" if share_code is not None else "group_id"
        group = find_group(share_code, group_id)
        deal = group.deal
        _check_join(group, user.pk, now, field)
        code = group.share_code
    else:
        field = "deal_id"
        deal = Deal.objects.filter(pk=deal_id, status__in=(DealStatus.LIVE, DealStatus.SOLD_OUT)).first()
        if deal is None:
            raise NotFound("Deal not found.", field="deal_id")
        _check_open(deal, now)
        if Group.objects.filter(deal=deal, leader=user, status=GroupStatus.FORMING).exists():
            raise ValidationError("You already lead an open group of this deal: share its code.",
                                  code=ErrorCode.LIMIT_EXCEEDED, field="deal_id")
        code = None
    deals.require_vendor(deal.vendor_id, field=field)
    if not isinstance(quantity, int) or not 1 <= quantity <= deal.max_per_member:
        raise ValidationError(f"1 to {deal.max_per_member} per member.", field="quantity")
    _check_user(deal, user.pk, field)
    token = open_cart(user)
    if any(line.variant_id != deal.variant_id for line in cart_line_refs(token, user)):
        raise ValidationError("A group order holds only its deal: check out or remove the other items first.",
                              code=ErrorCode.INVALID_STATE, field="checkout")
    checkout = add_line(token, "product", variant_id=deal.variant_id, quantity=quantity, user=user, replace=True)
    line = next(line for line in cart_line_refs(token, user) if line.variant_id == deal.variant_id)
    set_line_metadata(token, line.line_id, PLUGIN, {"deal": deal.pk, "share_code": code}, user=user)
    return checkout


def validate(checkout, lines):
    """`checkout_validate`: a cart with a deal line holds only it, within the deal's
    per-member quantity, bought by a signed-in member while the deal is open."""
    deal_lines = [line for line in lines if meta_of(line) is not None]
    if not deal_lines:
        return
    line = deal_lines[0]
    field = f"lines.{line.index}"
    if len(lines) > 1:
        raise ValidationError("A group order holds only its deal: remove the other items.",
                              code=ErrorCode.INVALID_STATE, field="lines")
    if checkout.user_id is None:
        raise ValidationError("Sign in to buy a group deal.", code=ErrorCode.NOT_AUTHENTICATED, field=field)
    deal = Deal.objects.filter(pk=meta_of(line)["deal"]).first()
    if deal is None or deal.variant_id != line.variant_id:
        raise ValidationError("This deal no longer exists.", code=ErrorCode.NOT_FOUND, field=field)
    if line.quantity > deal.max_per_member:
        raise ValidationError(f"At most {deal.max_per_member} per member.", field=f"{field}.quantity")
    if not any(a.kind == "deal" for a in line.unit_price.adjustments):
        raise ValidationError("The deal is over: its price no longer applies.", code=ErrorCode.GROUP_CLOSED,
                              field=field)


# -- inside the completion transaction ------------------------------------------------------------
def reserve(order, lines, adjustments):
    """`checkout_reserve`: claim a seat in the group (under its row lock: paid + held seats
    never exceed the size) or, for a new group, the group's units of the deal's cap. The
    member row (PAYING or OPENING) is written with the order; raising rolls it all back."""
    from marketplace.plugins.accounts import lock_user

    deal_lines = [line for line in order.lines if meta_of(line) is not None]
    if not deal_lines:
        return
    line = deal_lines[0]
    meta = meta_of(line)
    cart_line = next((c for c in lines if meta_of(c) is not None), None)
    field = f"lines.{cart_line.index}" if cart_line is not None else "lines"
    if order.user_id is None:
        raise ValidationError("Sign in to buy a group deal.", code=ErrorCode.NOT_AUTHENTICATED, field=field)
    for item in adjustments:
        if item.kind == "discount" and cart_line is not None and item.lines.get(cart_line.line_id):
            raise ValidationError("Group prices do not combine with other discounts: remove the code.",
                                  code=ErrorCode.INVALID, field=field)
    lock_user(order.user_id)  # one member's completions one at a time: the per-user limit holds
    now = clock.now()
    deal = Deal.objects.get(pk=meta["deal"])
    deals.require_vendor(deal.vendor_id, field=field)
    if line.quantity > deal.max_per_member:
        raise ValidationError(f"At most {deal.max_per_member} per member.", field=f"{field}.quantity")
    vendor_order = next(vo for vo in order.vendor_orders if vo.vendor_order_id == line.vendor_order_id)
    member = Member(deal=deal, user_id=order.user_id, order_id=order.order_id, vendor_order_id=line.vendor_order_id,
                    order_line_id=line.line_id, quantity=line.quantity, amount=vendor_order.total, joined_at=now)
    if meta.get("share_code"):
        group = Group.objects.select_for_update().filter(share_code=meta["share_code"], deal=deal).first()
        if group is None:
            raise ValidationError("No group has this share code.", code=ErrorCode.NOT_FOUND, field=field)
        _check_join(group, order.user_id, now, field)
        _check_user(deal, order.user_id, field)
        held = Group.objects.filter(pk=group.pk, status=GroupStatus.FORMING, expires_at__gt=now,
                                    paid_count__lt=F("size") - F("held_count")).update(
            held_count=F("held_count") + 1, version=F("version") + 1)
        if not held:
            raise ValidationError("This group is full.", code=ErrorCode.GROUP_FULL, field=field)
        member.group, member.status = group, MemberStatus.PAYING
    else:
        _check_open(deal, now, field)
        _check_user(deal, order.user_id, field)
        if Group.objects.filter(deal=deal, leader_id=order.user_id, status=GroupStatus.FORMING).exists():
            raise ValidationError("You already lead an open group of this deal.", code=ErrorCode.LIMIT_EXCEEDED,
                                  field=field)
        try:
            deals.reserve_capacity(deal, deal.group_capacity)
        except MarketplaceError as exc:
            exc.field = field
            raise
        member.status, member.is_leader = MemberStatus.OPENING, True
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise ValidationError("You already take part in this group or deal.", code=ErrorCode.LIMIT_EXCEEDED,
                              field=field) from None


def release(order):
    """`on_order_released` (an unpaid order cancelled or expired): give back what
    `reserve` claimed. A leader who never paid leaves no group behind."""
    member = Member.objects.select_for_update().filter(order_id=order.order_id).first()
    if member is None:
        return
    now = clock.now()
    if member.status == MemberStatus.OPENING:
        deals.release_capacity(member.deal_id, member.deal.group_capacity)
        _set(member, MemberStatus.ABANDONED, settled_at=now, note="The leader did not pay in time.")
    elif member.status == MemberStatus.PAYING:
        group = Group.objects.select_for_update().get(pk=member.group_id)
        if group.status == GroupStatus.FORMING:
            Group.objects.filter(pk=group.pk).update(held_count=F("held_count") - 1, version=F("version") + 1)
        _set(member, MemberStatus.ABANDONED, settled_at=now, note="Not paid in time; the seat was released.")
    elif member.status == MemberStatus.JOINED and member.paid_by == "authorization":
        group = Group.objects.select_for_update().get(pk=member.group_id)
        if group.status == GroupStatus.FORMING:  # an authorised seat lost before settlement: the seat reopens
            Group.objects.filter(pk=group.pk).update(paid_count=F("paid_count") - 1, version=F("version") + 1)
        _set(member, MemberStatus.VOIDED, settled_at=now, note="The authorisation was released.")
    elif member.status == MemberStatus.LATE and member.paid_by == "authorization":
        _set(member, MemberStatus.VOIDED, settled_at=now, note="Late: the authorisation was released.")


def _set(member, status, **fields):
    """Conditional member state change (from the state the caller read). True if made."""
    changed = Member.objects.filter(pk=member.pk, status=member.status).update(status=status, **fields)
    if changed:
        member.status = status
        for name, value in fields.items():
            setattr(member, name, value)
    return bool(changed)


def active_members(deal_id, user_id):
    return Member.objects.filter(Q(deal_id=deal_id) & Q(user_id=user_id) & Q(status__in=ACTIVE_MEMBER))


def start_payment(*, order_id, gateway, wallet=False):
    """Start paying a group order: authorised only (captured when the group succeeds) when
    the gateway can capture later and the buyer pays by card; else captured at once (and
    refunded if the group fails). Returns (the facade's `PaymentInfo` with the client
    secret, "manual" or "automatic"). Raises ValidationError (INVALID: not a group order; INVALID_STATE: not
    awaiting payment), GatewayError."""
    from marketplace.plugins.payments import MANUAL_CAPTURE, authorize, gateway_supports, pay

    member = Member.objects.filter(order_id=order_id).first()
    if member is None:
        raise ValidationError("This is not a group-buy order.", field="order_id")
    if member.status not in (MemberStatus.OPENING, MemberStatus.PAYING):
        raise ValidationError("This group order is not waiting for payment.", code=ErrorCode.INVALID_STATE,
                              field="order_id")
    if not wallet and gateway_supports(gateway, MANUAL_CAPTURE):
        return authorize(order_id, gateway), "manual"
    return pay(order_id, gateway), "automatic"
