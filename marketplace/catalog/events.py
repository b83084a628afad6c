"""Events of the catalog app. `vendor_id` (the product's vendor) is the scope."""
from dataclasses import dataclass

from marketplace.core.events import Event


@dataclass(frozen=True, kw_only=True)
class ProductCreated(Event):
    name = "product_created"
    description = "A product was created (payload: product_id, vendor_id)."
    product_id: int


@dataclass(frozen=True, kw_only=True)
class ProductUpdated(Event):
    name = "product_updated"
    description = "A product, its variants, prices or stock changed (payload: product_id, vendor_id)."
    product_id: int


@dataclass(frozen=True, kw_only=True)
class ProductDeleted(Event):
    name = "product_deleted"
    description = "A product was deleted (payload: product_id, vendor_id)."
    product_id: int


EVENTS = [ProductCreated, ProductUpdated, ProductDeleted]
