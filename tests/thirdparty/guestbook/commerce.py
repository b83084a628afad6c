"""The guestbook's commerce side, through the public plugin API only: a sticker pack sold by
the platform (a line kind), a limited edition claimed atomically with the order, guestbook
credit as a tender, and product limits as vendor entitlements."""
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from marketplace.plugins import ErrorCode, NotFound, ValidationError, get_settings
from marketplace.plugins.checkout import TENDER, LineDescription, LineKind, OrderAdjustment

KIND = "guestbook_sticker"
SOURCE = "guestbook"


class StickerPack(LineKind):
    name = KIND
    max_quantity = 5
    revenue_account = "platform_sticker_revenue"

    def describe(self, reference):
        if reference != "classic":
            raise NotFound("There is no such sticker pack.", field="reference")
        return LineDescription(name="留言板贴纸 Guestbook stickers", sku="GB-STICKER-CLASSIC")

    def clean_metadata(self, reference, metadata, user):
        unknown = set(metadata) - {"message"}
        if unknown:
            raise ValidationError(f"Unknown option {sorted(unknown)[0]!r}.", field="metadata")
        message = str(metadata.get("message") or "").strip()
        if len(message) > 200:
            raise ValidationError("At most 200 characters.", field="metadata.message")
        return {"message": message} if message else {}

    def list_prices(self, lines, context):
        price = Decimal(get_settings("guestbook").sticker_price)
        return {line.reference: price for line in lines}


def edition():
    from .models import Edition

    row = Edition.objects.select_for_update().first()
    if row is None:
        row = Edition.objects.create(size=get_settings("guestbook").edition_size)
        row = Edition.objects.select_for_update().get(pk=row.pk)
    return row


def credit_offered(checkout, lines):
    """A tender: the member's guestbook credit, for their catalog goods."""
    from .models import Credit

    if checkout.user_id is None:
        return []
    balance = Credit.objects.filter(user_id=checkout.user_id).values_list("balance", flat=True).first()
    if not balance:
        return []
    return [OrderAdjustment(source=SOURCE, label="留言板积分 Guestbook credit", amount=balance, kind=TENDER,
                            reference=str(checkout.user_id))]


@transaction.atomic
def reserve(order, adjustments):
    """Claim sticker copies and spend the applied credit, atomically with the order."""
    from .models import Credit, StickerClaim

    wanted = [line for line in order.lines if line.kind == KIND]
    if wanted:
        copies = sum(line.quantity for line in wanted)
        row = edition()
        if row.claimed + copies > row.size:
            raise ValidationError(f"Only {row.size - row.claimed} sticker packs are left in this edition.",
                                  code=ErrorCode.SOLD_OUT, field="lines")
        type(row).objects.filter(pk=row.pk).update(claimed=F("claimed") + copies)
        StickerClaim.objects.bulk_create([StickerClaim(order_id=order.order_id, line_id=line.line_id,
                                                       quantity=line.quantity,
                                                       message=line.metadata.get("guestbook", {}).get("message", ""))
                                          for line in wanted])
    spent = sum((a.applied for a in adjustments if a.source == SOURCE), Decimal("0"))
    if spent and order.user_id is not None:
        taken = Credit.objects.filter(user_id=order.user_id, balance__gte=spent).update(balance=F("balance") - spent)
        if taken != 1:
            raise ValidationError("Your guestbook credit changed; review the cart.", code=ErrorCode.INVALID_STATE,
                                  field="lines")


@transaction.atomic
def release(order):
    """An unpaid order was cancelled: copies and credit go back."""
    from django.utils import timezone

    from .models import Credit, Edition, StickerClaim

    claims = StickerClaim.objects.select_for_update().filter(order_id=order.order_id, released_at__isnull=True)
    copies = sum(c.quantity for c in claims)
    if copies:
        Edition.objects.update(claimed=F("claimed") - copies)
        claims.update(released_at=timezone.now())
    spent = _tendered(order)
    if spent and order.user_id is not None:
        Credit.objects.filter(user_id=order.user_id).update(balance=F("balance") + spent)


def _tendered(order):
    total = Decimal("0")
    for line in order.lines:
        for item in line.explanation.get("order_adjustments", []):
            if item["source"] == SOURCE and item["kind"] == TENDER:
                total += Decimal(item["amount"])
    return total


@transaction.atomic
def refunded(refund):
    """A refund gave back part of what credit paid: return it to the member."""
    from .models import Credit

    amount = refund.tenders.get(SOURCE)
    if amount and refund.user_id is not None:
        Credit.objects.filter(user_id=refund.user_id).update(balance=F("balance") + amount)


@transaction.atomic
def paid(order):
    from django.utils import timezone

    from .models import StickerClaim

    StickerClaim.objects.filter(order_id=order.order_id, paid_at__isnull=True).update(paid_at=timezone.now())


@transaction.atomic
def donation_paid(payment):
    from django.utils import timezone

    from .models import Donation

    if not payment.purpose.startswith("guestbook:donation:"):
        return
    Donation.objects.filter(pk=int(payment.purpose.rsplit(":", 1)[1]), paid_at__isnull=True).update(
        paid_at=timezone.now(), payment_id=payment.payment_id)


def donate(user, amount, gateway):
    """A standalone charge through the payments facade; paid when captured."""
    from decimal import InvalidOperation

    from marketplace.plugins.payments import charge

    from .models import Donation

    try:
        amount = Decimal(str(amount))
    except InvalidOperation:
        raise ValidationError("Not an amount.", field="amount") from None
    if not amount.is_finite() or amount <= 0 or amount > 1000:
        raise ValidationError("Give between 0.01 and 1000.00.", field="amount")
    donation = Donation.objects.create(user=user, amount=amount)
    return donation, charge(customer=user, amount=amount, purpose=f"guestbook:donation:{donation.pk}",
                            gateway=gateway, description="Guestbook donation")
