"""Catalog caches, invalidated on write (marketplace.core.snapshots):

- the catalog version: bumped by every write that can change a listing, so derived
  values (listing counts) are cached until the catalog changes and never served stale;
- the category tree: every category, kept per process until a category is written.
"""
from marketplace.core import snapshots

KEY = "catalog"


def version():
    """The catalog's current generation (read with the other snapshot generations, once
    per request)."""
    return snapshots.generation(KEY)


def bump(**_signal_kwargs):
    """Invalidate every cached listing value: now and after the transaction commits."""
    snapshots.bump(KEY)


def _load_categories():
    from .models import Category

    return {c.pk: c for c in Category.objects.order_by("position", "pk")}


CATEGORIES = snapshots.Snapshot("catalog.categories", _load_categories)


def category_tree():
    """{pk: Category} in display order (position, pk), shared read-only by the process."""
    return CATEGORIES.get()


def connect_signals():
    from django.db.models.signals import post_delete, post_save

    from marketplace.vendors.models import Vendor

    from .models import Category, Product, ProductVariant, Stock

    snapshots.register_generation(KEY)
    for model in (Product, ProductVariant, Stock, Vendor, Category):
        post_save.connect(bump, sender=model, dispatch_uid=f"catalog-version-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"catalog-version-delete-{model.__name__}")
    snapshots.connect(CATEGORIES, Category)
