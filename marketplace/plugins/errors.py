"""The errors plugins raise and catch (one import path for services and GraphQL alike).

- `ValidationError(message, code=ErrorCode.INVALID, field=None, errors=None)`: refused input;
  several field errors at once with `errors=[MarketplaceError(...), ...]`;
- `NotFound`, `PermissionDenied`: as named;
- `MarketplaceError(message, code=..., field=...)`: any other client-facing error;
- `PluginFailed`: what a fail-closed hook raises when a plugin crashed (code PLUGIN_FAILED).

`ErrorCode` lists every code (SLOT_TAKEN, GROUP_FULL, SOLD_OUT, ENTITLEMENT_REQUIRED, ...).
"""
from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound, PermissionDenied, ValidationError

from .manager import PluginFailed

__all__ = ["ErrorCode", "MarketplaceError", "NotFound", "PermissionDenied", "PluginFailed", "ValidationError"]
