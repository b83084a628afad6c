"""Carts for plugins: sell lines that are not catalog variants, attach data to cart lines,
and take part in pricing and completion.

- `LineKind`, `LineDescription`: subclass `LineKind` and return it from
  `register_line_kinds` to sell a membership, a fee or a voucher (no stock, no shipping
  unless you say so; priced by the one pipeline; seller = the platform or a vendor).
- `open_cart(user) -> token`: the member's open cart (made when they have none);
- `add_line(token, kind, reference, quantity=1, metadata=None, user=None, variant_id=None,
  replace=False)`: put such a line (or a catalog variant with kind "product" and
  `variant_id=`) in a cart; a product line adds units unless `replace` sets the quantity.
- `set_line_metadata(token, line_id, namespace, data, user=None)` /
  `set_checkout_metadata(token, namespace, data, user=None)`: store your data (a booking
  hold, a deal and share code) on a cart line or the cart, under your plugin's name; it is
  copied to the order line and order at completion and shown to the cart's owner.
- `cart_lines(token, user=None, assume=()) -> [CheckoutLineInfo]`: the cart priced as its
  owner sees it; with `assume` (e.g. {"membership"}) as if the owner had those benefits (a
  preview such as "join and save X"; completion never assumes);
  `cart_line_refs(token, user=None) -> [CartLineRef]`: its lines unpriced (one query).
- `cart_adjustments(token, user=None) -> [AppliedOrderAdjustment]`: the order-level
  discounts and tenders as they apply to the cart now (what each plugin offered, and what
  the floor of every line let through), e.g. to tell a buyer how many points an order
  will take.
- `CheckoutInfo`, `CheckoutLineInfo`: what `checkout_validate`, `checkout_adjustments`
  and `checkout_reserve` receive.
- `OrderAdjustment` (DISCOUNT or TENDER): what `checkout_adjustments` returns;
  `AppliedOrderAdjustment`: what `checkout_reserve` receives (the amount actually applied,
  capped by the floor of every line).
"""
from dataclasses import dataclass

from marketplace.checkout.info import (
    DISCOUNT, TENDER, AppliedOrderAdjustment, CheckoutInfo, CheckoutLineInfo, OrderAdjustment,
)
from marketplace.checkout.kinds import LineDescription, LineKind, line_kinds


def open_cart(user) -> str:
    """The token of the signed-in member's open cart, made when they have none."""
    from marketplace.checkout import services

    return str(services.create_checkout(user=user).token)


def add_line(token, kind, reference="", quantity=1, metadata=None, user=None, variant_id=None, replace=False):
    """Add (or change) one line in the cart `token` as `user` would. A product line adds
    `quantity` units to what the cart holds, or with `replace` holds exactly `quantity`.
    Raises NotFound, ValidationError (the kind's own checks, quantity, stock for products)."""
    from marketplace.checkout import services

    checkout = services.get_checkout(token, user)
    item = services.LineInput(variant_id=variant_id, quantity=quantity, kind=kind, reference=reference,
                              metadata=metadata)
    return services.add_lines(checkout, [item], user=user, add=kind == "product" and not replace)


def set_line_metadata(token, line_id, namespace, data, user=None):
    from marketplace.checkout import services

    return services.set_line_metadata(services.get_checkout(token, user), line_id, namespace, data)


def set_checkout_metadata(token, namespace, data, user=None):
    from marketplace.checkout import services

    return services.set_checkout_metadata(services.get_checkout(token, user), namespace, data)


@dataclass(frozen=True)
class CartLineRef:
    """A cart line without its price: `line_id`, `kind`, `reference`, `variant_id`
    (None for plugin lines), `quantity`."""

    line_id: int
    kind: str
    reference: str
    variant_id: int | None
    quantity: int


def cart_line_refs(token, user=None) -> list[CartLineRef]:
    """The cart's lines, oldest first, unpriced (for a plugin that only needs to know
    what the cart holds). Raises NotFound (field "token")."""
    from marketplace.checkout import services

    checkout = services.get_checkout(token, user)
    return [CartLineRef(*row) for row in checkout.lines.order_by("pk").values_list(
        "pk", "kind", "reference", "variant_id", "quantity")]


def cart_lines(token, user=None, assume=frozenset()):
    from marketplace.checkout import services
    from marketplace.checkout.totals import compute_totals

    return compute_totals(services.get_checkout(token, user), user=user, assume=frozenset(assume)).lines


def cart_adjustments(token, user=None):
    from marketplace.checkout import services
    from marketplace.checkout.totals import compute_totals

    return list(compute_totals(services.get_checkout(token, user), user=user).adjustments)


__all__ = ["LineKind", "LineDescription", "line_kinds", "CheckoutInfo", "CheckoutLineInfo", "OrderAdjustment",
           "AppliedOrderAdjustment", "DISCOUNT", "TENDER", "open_cart", "add_line", "set_line_metadata",
           "set_checkout_metadata", "cart_lines", "cart_line_refs", "CartLineRef", "cart_adjustments"]
