"""Line kinds: what a cart line can be besides a catalog variant.

A plugin that sells something that is not in the catalog (a membership, a towing fee, a
deposit) subclasses `LineKind` and returns an instance from `register_line_kinds`:

    class MembershipLine(LineKind):
        name = "membership"                      # CheckoutLine.kind; unique
        revenue_account = "platform_membership_revenue"

        def describe(self, reference):           # -> LineDescription or raise NotFound
            plan = Plan.objects.filter(code=reference, is_active=True).first()
            ...
        def list_prices(self, lines, context):   # -> {line.reference: Decimal}
            ...

Lines of a kind are priced by the one pipeline (list price from `list_prices`, then
plugin adjustments), need no stock and, unless `requires_shipping`, no shipping method or
address. `seller` names the vendor selling the line (None: the platform, booked on
`revenue_account`). While the owning plugin is off, its lines cannot be added or bought.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class LineDescription:
    """How a plugin line appears in carts and orders."""

    name: str
    sku: str
    seller_id: int | None = None


class LineKind:
    name: str = ""
    plugin: str = ""  # filled in by the registry
    requires_shipping: bool = False
    applies_floor: bool = False
    max_quantity: int = 1
    revenue_account: str = "platform_revenue"
    weight_grams: int = 0

    def describe(self, reference: str) -> LineDescription:
        """Name, SKU and seller of the item `reference`; raise NotFound (field
        "reference") when it does not exist or is not for sale."""
        raise NotImplementedError

    def clean_metadata(self, reference: str, metadata: dict, user) -> dict:
        """Validate what a client sent with the line (e.g. a partner code) and return the
        metadata to store under the plugin's name. Raise ValidationError. Default: none."""
        if metadata:
            from marketplace.core.errors import ValidationError

            raise ValidationError("This kind of line takes no options.", field="metadata")
        return {}

    def list_prices(self, lines, context) -> dict[str, Decimal]:
        """List unit prices for a batch of `CheckoutLineInfo`-like objects (with
        `reference`, `metadata`, `quantity`): {reference: Decimal}."""
        raise NotImplementedError

    def validate(self, line, context) -> None:
        """Check a priced line before completion (`CheckoutLineInfo`); raise
        ValidationError to block it. Default: accept."""


_kinds: dict[str, LineKind] | None = None


def line_kinds() -> dict[str, LineKind]:
    """Every registered line kind by name (built once at first use)."""
    global _kinds
    if _kinds is None:
        from marketplace.plugins.manager import get_manager

        found = {}
        for plugin, kinds in get_manager().call_each("register_line_kinds", include_inactive=True):
            for kind in kinds or ():
                if not isinstance(kind, LineKind) or not kind.name or kind.name == "product":
                    raise TypeError(f"Plugin {plugin!r}: register_line_kinds must return LineKind instances "
                                    "with a name other than 'product'")
                if kind.name in found:
                    raise RuntimeError(f"Plugin {plugin!r} registers the line kind {kind.name!r} twice")
                kind.plugin = plugin
                found[kind.name] = kind
        _kinds = found
    return _kinds


def get_kind(name, field="kind"):
    from marketplace.core.errors import ErrorCode, ValidationError
    from marketplace.plugins.manager import get_manager

    kind = line_kinds().get(name)
    if kind is None:
        raise ValidationError(f"Unknown line kind {name!r}.", field=field)
    if not get_manager().is_active(kind.plugin):
        raise ValidationError(f"{name} lines are not sold now (the {kind.plugin} plugin is off).",
                              code=ErrorCode.PLUGIN_DISABLED, field=field)
    return kind


def reset_cache():
    global _kinds
    _kinds = None
