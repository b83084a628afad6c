"""Read rules of the catalog, for every app and plugin: who may see a product.

One rule per type, whatever path reaches the object (a listing, `node(id:)`, a cart
line, an order, a plugin field):

- a **product** is visible when it is published and its vendor is listed (approved, and
  no plugin holds its storefront hidden); otherwise only to that vendor's staff and
  platform staff;
- a **variant** is visible when its product is visible and the variant is active;
  otherwise only to that vendor's staff and platform staff.

The functions below decide from what is already loaded when they can and say `None`
when they need the vendor's status (`product_visibility`); the bulk forms decide a whole
list with at most one query.
"""
from marketplace.vendors.models import Vendor, VendorStatus
from marketplace.vendors.permissions import has_vendor_role

from .models import Product, ProductStatus


HIDDEN = "hidden"  # the listing status of an approved vendor whose storefront a plugin holds


def listing_status(vendor):
    """A vendor's status for the visibility rule: its status, or "hidden" while a plugin
    holds its storefront out of listings."""
    return HIDDEN if vendor.storefront_hidden else vendor.status


def listed_vendors():
    """Vendors whose storefront shoppers see: approved, and no plugin holds it hidden (a
    queryset; shop search and suggestions read it)."""
    return Vendor.objects.filter(status=VendorStatus.APPROVED, storefront_hidden=False)


def is_listed(vendor):
    """`listed_vendors()` for one loaded vendor."""
    return vendor.status == VendorStatus.APPROVED and not vendor.storefront_hidden


def visible_products():
    """Published products of listed vendors (approved, storefront not held hidden): what
    listings, search and detail show to shoppers (a queryset)."""
    return Product.objects.filter(status=ProductStatus.PUBLISHED, vendor__status=VendorStatus.APPROVED,
                                  vendor__storefront_hidden=False)


def _loaded(obj, relation):
    return relation in obj._state.fields_cache


def product_visibility(product, user, vendor_status=None):
    """True/False when the rule can be decided, None when the vendor's status is needed
    (the product's `vendor` is not loaded and `vendor_status` was not given). Touches
    `user` (its vendor roles, read once per request) only for products not public."""
    public = False
    if product.status == ProductStatus.PUBLISHED:
        if vendor_status is None and _loaded(product, "vendor"):
            vendor_status = listing_status(product.vendor) if product.vendor is not None else ""
        public = None if vendor_status is None else vendor_status == VendorStatus.APPROVED
    if public:
        return True
    if has_vendor_role(user, product.vendor_id):
        return True
    return None if public is None else False


def product_is_visible(product, user):
    """The product rule, decided (reads the vendor's status if it is not loaded)."""
    decided = product_visibility(product, user)
    if decided is None:
        vendor = Vendor.objects.filter(pk=product.vendor_id).only("status", "storefront_hidden").first()
        decided = product_visibility(product, user, vendor_status=listing_status(vendor) if vendor else "")
    return decided


def variant_visibility(variant, user, product=None):
    """Like `product_visibility` for a variant; None when its product (or the product's
    vendor status) is needed. `product`: the variant's product when loaded elsewhere."""
    if product is None:
        if not _loaded(variant, "product"):
            return None
        product = variant.product
    decided = product_visibility(product, user)
    if decided and not variant.is_active:
        return has_vendor_role(user, product.vendor_id)
    return decided


def variant_is_visible(variant, user):
    product = variant.product  # loads it when needed
    if not product_is_visible(product, user):
        return False
    return variant.is_active or has_vendor_role(user, product.vendor_id)


def _decide(products, user):
    """The product rule for each of `products`, with at most one query."""
    decided = [product_visibility(p, user) for p in products]
    missing = {p.vendor_id for p, d in zip(products, decided) if d is None}
    if missing:
        statuses = {pk: (HIDDEN if hidden else status) for pk, status, hidden in
                    Vendor.objects.filter(pk__in=missing).values_list("pk", "status", "storefront_hidden")}
        decided = [d if d is not None else product_visibility(p, user, vendor_status=statuses.get(p.vendor_id, ""))
                   for p, d in zip(products, decided)]
    return decided


def visible_subset(products, user):
    """The visible ones of `products`, in order, with at most one query."""
    return [p for p, visible in zip(products, _decide(products, user)) if visible]


def visible_variants(variants, user):
    """The visible ones of `variants`, in order, with at most two queries."""
    missing = {v.product_id for v in variants if not _loaded(v, "product")}
    loaded = Product.objects.select_related("vendor").in_bulk(missing) if missing else {}
    pairs = [(v, v.product if _loaded(v, "product") else loaded.get(v.product_id)) for v in variants]
    pairs = [(v, p) for v, p in pairs if p is not None]
    decided = _decide([p for _, p in pairs], user)
    return [v for (v, p), visible in zip(pairs, decided)
            if visible and (v.is_active or has_vendor_role(user, p.vendor_id))]


def category_tree(context):
    """{category id: Category} of every category, ordered by position: the process's
    copy, rebuilt when a category is written (marketplace.catalog.cache), kept on
    `context` (the GraphQL request) so one request sees one tree. Read-only."""
    tree = getattr(context, "_category_tree", None)
    if tree is None:
        from .cache import category_tree as cached_tree

        tree = context._category_tree = cached_tree()
    return tree
