"""A catalog version: bumped by every write that can change a listing, so derived
values (listing counts) are cached until the catalog changes and never served stale."""
from django.core.cache import cache
from django.db import transaction

KEY = "catalog:version"


def version():
    value = cache.get(KEY)
    if value is None:
        cache.add(KEY, 1, timeout=None)
        value = cache.get(KEY) or 1
    return value


def bump(**_signal_kwargs):
    def _bump():
        try:
            cache.incr(KEY)
        except ValueError:
            cache.add(KEY, 1, timeout=None)

    _bump()  # now, for this transaction's own reads...
    transaction.on_commit(_bump)  # ...and after commit, for readers that cached meanwhile


def connect_signals():
    from django.db.models.signals import post_delete, post_save

    from marketplace.vendors.models import Vendor

    from .models import Category, Product, ProductVariant, Stock

    for model in (Product, ProductVariant, Stock, Vendor, Category):
        post_save.connect(bump, sender=model, dispatch_uid=f"catalog-version-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"catalog-version-delete-{model.__name__}")
