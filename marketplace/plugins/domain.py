"""The engine's domain objects that plugins may use (part of the public plugin API).

Plugins reference core models through here (or by the string "app_label.Model" in
ForeignKeys), read listings through `visible_products`, and check vendor permissions
with the helpers below. Import inside functions or in modules loaded after Django's
app registry is ready (models.py, hooks.py, schema.py all are).
"""
from marketplace.accounts.models import User
from marketplace.catalog.models import Brand, Category, Product, ProductStatus, ProductVariant, Stock
from marketplace.catalog.services import visible_products
from marketplace.core.money import Money, quantize
from marketplace.pricing.pipeline import PriceAdjustment, PriceContext, PriceLine
from marketplace.vendors.models import StaffRole, Vendor, VendorKind, VendorStatus, Warehouse
from marketplace.vendors.permissions import ANY_STAFF, MANAGERS, has_vendor_role, require_vendor_role, vendor_roles

__all__ = [
    "ANY_STAFF", "MANAGERS", "Brand", "Category", "Money", "PriceAdjustment", "PriceContext", "PriceLine", "Product",
    "ProductStatus", "ProductVariant", "StaffRole", "Stock", "User", "Vendor", "VendorKind", "VendorStatus",
    "Warehouse", "has_vendor_role", "quantize", "require_vendor_role", "vendor_roles", "visible_products",
]
