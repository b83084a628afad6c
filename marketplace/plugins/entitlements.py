"""Vendor entitlements: named capabilities a vendor is granted or limited in.

Plugins declare entitlements once (`register_entitlements` hook, `EntitlementSpec`) and
grant or limit them per vendor (`vendor_entitlements` hook, e.g. a vendor-plans plugin
reading the vendor's subscription). Everyone reads them through one function:

    from marketplace.plugins.entitlements import entitlement, has_entitlement, require
    entitlement(vendor_id, "max_products")   # 2000, or None (no limit)
    has_entitlement(vendor_id, "group_buy")  # True / False
    require(vendor_id, "group_buy")          # raises ENTITLEMENT_REQUIRED when off

The core declares `max_products` (int or None = unlimited; enforced on product create
and publish with `LIMIT_EXCEEDED`), `commission_rate` (a Decimal fraction, e.g. 0.05;
used by the ledger unless platform staff set the vendor's own rate) and `search_boost`
(a float multiplier for search ranking, default 1.0). A plugin whose
`PluginAppConfig.requires_entitlement` names an entitlement is off for vendors without it.

Values are read once per request or task (the configuration scope) and cached for it.
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from marketplace.core.errors import ErrorCode, MarketplaceError


def _min_or_none(values):
    given = [v for v in values if v is not None]
    return min(given) if given else None


def _all(values):
    return all(bool(v) for v in values)


def _last(values):
    return values[-1]


COMBINE = {"min": _min_or_none, "all": _all, "max": max, "last": _last}


@dataclass(frozen=True)
class EntitlementSpec:
    """A capability. `kind` is "flag" (bool), "limit" (int or None = unlimited),
    "rate" (Decimal) or "number" (float). `default` applies when no plugin says anything;
    `combine` ("min", "all", "max", "last") merges several plugins' values."""

    name: str
    kind: str
    default: Any
    combine: str = "last"
    description: str = ""

    def merge(self, values):
        return COMBINE[self.combine](list(values)) if values else self.default


def core_entitlements():
    from django.conf import settings

    return [
        EntitlementSpec("max_products", "limit", None, "min",
                        "Most products a vendor may have (None: no limit). Enforced on create and publish."),
        EntitlementSpec("commission_rate", "rate", Decimal(str(settings.DEFAULT_COMMISSION_RATE)), "last",
                        "The platform's commission on the vendor's goods, a fraction (0.05 = 5%)."),
        EntitlementSpec("search_boost", "number", 1.0, "max", "Multiplier on the vendor's search ranking."),
    ]


_specs: dict[str, EntitlementSpec] | None = None
_cache = contextvars.ContextVar("vendor_entitlements_cache", default=None)


def specs() -> dict[str, EntitlementSpec]:
    """Every declared entitlement by name (core and plugins), built once."""
    global _specs
    if _specs is None:
        from .manager import get_manager

        found = {spec.name: spec for spec in core_entitlements()}
        for declared in get_manager().call("register_entitlements", include_inactive=True):
            for spec in declared or ():
                if not isinstance(spec, EntitlementSpec):
                    raise TypeError(f"register_entitlements must return EntitlementSpec objects, not {spec!r}")
                found.setdefault(spec.name, spec)
        _specs = found
    return _specs


def open_scope():
    return _cache.set({})


def close_scope(token):
    _cache.reset(token)


def invalidate():
    cache = _cache.get()
    if cache is not None:
        cache.clear()


def entitlements_for(vendor_ids) -> dict[int, dict[str, Any]]:
    """`{vendor_id: {name: value}}` for every declared entitlement, in one hook call for
    the vendors not yet cached in this scope."""
    from .manager import get_manager

    vendor_ids = [int(v) for v in vendor_ids]
    cache = _cache.get()
    if cache is None:
        cache = {}
    missing = [v for v in vendor_ids if v not in cache]
    if missing:
        declared = specs()
        given: dict[int, dict[str, list]] = {v: {} for v in missing}
        for answer in get_manager().call("vendor_entitlements", vendor_ids=missing):
            for vendor_id, values in (answer or {}).items():
                if int(vendor_id) not in given:
                    continue
                for name, value in values.items():
                    if name in declared:
                        given[int(vendor_id)].setdefault(name, []).append(value)
        for vendor_id in missing:
            cache[vendor_id] = {name: spec.merge(given[vendor_id].get(name)) for name, spec in declared.items()}
    return {v: cache[v] for v in vendor_ids}


def entitlement(vendor_id, name):
    """The vendor's value of one entitlement (its default when no plugin limits it).
    Raises KeyError for an undeclared name."""
    if name not in specs():
        raise KeyError(f"No entitlement named {name!r}")
    return entitlements_for([vendor_id])[int(vendor_id)][name]


def has_entitlement(vendor_id, name) -> bool:
    return bool(entitlement(vendor_id, name))


def require(vendor_id, name, field=None):
    """Raise `ENTITLEMENT_REQUIRED` unless the vendor has the flag `name`."""
    if not has_entitlement(vendor_id, name):
        raise MarketplaceError(f"This vendor's plan does not include {name.replace('_', ' ')}.",
                               code=ErrorCode.ENTITLEMENT_REQUIRED, field=field)


def check_limit(vendor_id, name, count: Callable[[], int], adding=1, field=None):
    """Raise `LIMIT_EXCEEDED` when `count() + adding` passes the vendor's limit `name`."""
    limit = entitlement(vendor_id, name)
    if limit is None:
        return
    current = count()
    if current + adding > limit:
        raise MarketplaceError(f"The vendor's plan allows at most {limit} ({name.replace('_', ' ')}); "
                               f"it has {current}.", code=ErrorCode.LIMIT_EXCEEDED, field=field)
