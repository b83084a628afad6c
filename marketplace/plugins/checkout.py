"""Carts for plugins: sell lines that are not catalog variants, attach data to cart lines,
and take part in pricing and completion.

- `LineKind`, `LineDescription`: subclass `LineKind` and return it from
  `register_line_kinds` to sell a membership, a fee or a voucher (no stock, no shipping
  unless you say so; priced by the one pipeline; seller = the platform or a vendor).
- `add_line(token, kind, reference, quantity=1, metadata=None, user=None)`: put such a
  line (or a catalog variant with kind "product" and `variant_id=`) in a cart.
- `set_line_metadata(token, line_id, namespace, data, user=None)` /
  `set_checkout_metadata(token, namespace, data, user=None)`: store your data (a booking
  hold, a deal and share code) on a cart line or the cart, under your plugin's name; it is
  copied to the order line and order at completion and shown to the cart's owner.
- `cart_lines(token, user=None, assume=()) -> [CheckoutLineInfo]`: the cart priced as its
  owner sees it; with `assume` (e.g. {"membership"}) as if the owner had those benefits (a
  preview such as "join and save X"; completion never assumes).
- `cart_adjustments(token, user=None) -> [AppliedOrderAdjustment]`: the order-level
  discounts and tenders as they apply to the cart now (what each plugin offered, and what
  the floor of every line let through), e.g. to tell a buyer how many points an order
  will take;
- `CheckoutInfo`, `CheckoutLineInfo`: what `checkout_validate`, `checkout_adjustments`
  and `checkout_reserve` receive.
- `OrderAdjustment` (DISCOUNT or TENDER): what `checkout_adjustments` returns;
  `AppliedOrderAdjustment`: what `checkout_reserve` receives (the amount actually applied,
  capped by the floor of every line).
"""
from marketplace.checkout.info import (
    DISCOUNT, TENDER, AppliedOrderAdjustment, CheckoutInfo, CheckoutLineInfo, OrderAdjustment,
)
from marketplace.checkout.kinds import LineDescription, LineKind, line_kinds


def add_line(token, kind, reference="", quantity=1, metadata=None, user=None, variant_id=None):
    """Add (or change) one line in the cart `token` as `user` would. Raises NotFound,
    ValidationError (the kind's own checks, quantity, stock for products)."""
    from marketplace.checkout import services

    checkout = services.get_checkout(token, user)
    item = services.LineInput(variant_id=variant_id, quantity=quantity, kind=kind, reference=reference,
                              metadata=metadata)
    return services.add_lines(checkout, [item], user=user, add=kind == "product")


def set_line_metadata(token, line_id, namespace, data, user=None):
    from marketplace.checkout import services

    return services.set_line_metadata(services.get_checkout(token, user), line_id, namespace, data)


def set_checkout_metadata(token, namespace, data, user=None):
    from marketplace.checkout import services

    return services.set_checkout_metadata(services.get_checkout(token, user), namespace, data)


def cart_lines(token, user=None, assume=frozenset()):
    from marketplace.checkout import services
    from marketplace.checkout.totals import compute_totals

    return compute_totals(services.get_checkout(token, user), user=user, assume=frozenset(assume)).lines


def cart_adjustments(token, user=None):
    from marketplace.checkout import services
    from marketplace.checkout.totals import compute_totals

    return list(compute_totals(services.get_checkout(token, user), user=user).adjustments)


__all__ = ["LineKind", "LineDescription", "line_kinds", "CheckoutInfo", "CheckoutLineInfo", "OrderAdjustment",
           "AppliedOrderAdjustment", "DISCOUNT", "TENDER", "add_line", "set_line_metadata", "set_checkout_metadata",
           "cart_lines", "cart_adjustments"]
