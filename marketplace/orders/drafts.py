"""What checkout hands to `orders.services.create_order`: an order described in plain,
typed values (the way Saleor passes `CheckoutInfo` to order creation), so orders never
depend on checkout's internals. Amounts are Decimals in the order's currency."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class OrderLineDraft:
    kind: str
    reference: str
    variant_id: int | None
    product_name: str
    sku: str
    quantity: int
    unit_list_price: Decimal
    unit_price: Decimal
    discount: Decimal  # order-level discount allocated to this line (all units)
    total: Decimal  # unit_price x quantity - discount
    tendered: Decimal  # tender allocated to this line
    platform_funded: Decimal  # platform-funded discount on this line (all units)
    requires_shipping: bool
    explanation: dict
    metadata: dict
    checkout_line_id: int | None = None
    allocations: tuple = ()  # ((stock_id, quantity), ...)


@dataclass(frozen=True)
class SubOrderDraft:
    """One seller's part: `vendor_id` None is the platform (booked on `revenue_account`)."""

    vendor_id: int | None
    shipping_method_name: str
    shipping: Decimal
    lines: tuple
    commission_rate: Decimal
    revenue_account: str = ""

    @property
    def subtotal(self):
        return sum((line.total for line in self.lines), Decimal("0"))

    @property
    def discount(self):
        return sum((line.discount for line in self.lines), Decimal("0"))

    @property
    def tendered(self):
        return sum((line.tendered for line in self.lines), Decimal("0"))

    @property
    def platform_funded(self):
        return sum((line.platform_funded for line in self.lines), Decimal("0"))

    @property
    def total(self):
        return self.subtotal + self.shipping


@dataclass(frozen=True)
class OrderDraft:
    user_id: int | None
    email: str
    currency: str
    shipping_address: dict | None
    checkout_token: object
    parts: tuple
    metadata: dict = field(default_factory=dict)

    @property
    def subtotal(self):
        return sum((p.subtotal for p in self.parts), Decimal("0"))

    @property
    def shipping_total(self):
        return sum((p.shipping for p in self.parts), Decimal("0"))

    @property
    def discount_total(self):
        return sum((p.discount for p in self.parts), Decimal("0"))

    @property
    def tendered_total(self):
        return sum((p.tendered for p in self.parts), Decimal("0"))

    @property
    def total(self):
        return self.subtotal + self.shipping_total
