"""The membership checkout line: `checkoutLinesAdd(lines: [{kind: "membership",
reference: "<plan code>", quantity: 1, metadata: {code: "<partner code>"}}])`.

A non-stock line sold by the platform (no vendor, no shipping, no floor), booked on the
`platform_membership_revenue` ledger account. Only signed-in members can buy one, one per
order.
"""
from __future__ import annotations

from decimal import Decimal

from marketplace.plugins.checkout import LineDescription, LineKind
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError

from . import lookups
from .pricing import LINE_KIND

REVENUE_ACCOUNT = "platform_membership_revenue"


def sellable_plan(reference, field="reference"):
    """The active plan with this code (`lookups.PlanRow`). Raises NotFound (unknown code) or
    ValidationError INVALID_STATE (the plan is not sold now)."""
    plan = lookups.plans().get((reference or "").strip().lower())
    if plan is None:
        raise NotFound(f"No membership plan {reference!r}.", field=field)
    if not plan.is_active:
        raise ValidationError(f"The {plan.name_zh} plan is not sold now.", code=ErrorCode.INVALID_STATE, field=field)
    return plan


class MembershipLine(LineKind):
    name = LINE_KIND
    revenue_account = REVENUE_ACCOUNT
    requires_shipping = False
    applies_floor = False
    max_quantity = 1

    def describe(self, reference):
        plan = sellable_plan(reference)
        name = f"{plan.name_zh} {plan.name_en}".strip()
        return LineDescription(name=name, sku=f"MEMBERSHIP-{plan.code.upper()}", seller_id=None)

    def clean_metadata(self, reference, metadata, user):
        """Signed-in buyers only; the only option is `code` (a partner code), checked now
        for the buyer (exists, active, in its window, not used by them, uses left)."""
        from .services import codes

        if user is None or not getattr(user, "is_authenticated", False):
            raise ValidationError("Sign in to buy a membership.", code=ErrorCode.NOT_AUTHENTICATED, field="reference")
        unknown = set(metadata) - {"code"}
        if unknown:
            raise ValidationError(f"Unknown option(s): {', '.join(sorted(unknown))}; only `code` is accepted.",
                                  field="metadata")
        code = metadata.get("code")
        if code in (None, ""):
            return {}
        if not isinstance(code, str):
            raise ValidationError("The code must be text.", field="code")
        found = codes.check_usable(code, user.pk)
        return {"code": found.code}

    def list_prices(self, lines, context):
        plans = lookups.plans()
        return {line.reference: Decimal(plans[line.reference.strip().lower()].price) for line in lines}

    def validate(self, line, context):
        if context.user is None:
            raise ValidationError("Sign in to buy a membership.", code=ErrorCode.NOT_AUTHENTICATED)
        sellable_plan(line.reference)
