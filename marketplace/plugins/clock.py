"""The engine's injectable clock (see `marketplace.core.clock`): every time-dependent rule
of a plugin (expiry, trials, slots, windows) calls `now()`; tests move it with
`frozen()`/`travel()` instead of sleeping.

    from marketplace.plugins import clock
    clock.now()                       # aware UTC datetime
    clock.localtime(value, "Asia/Shanghai")
    clock.today()                     # the business zone's date
"""
from marketplace.core.clock import business_zone, frozen, localtime, now, offset, reset, set_frozen, today, travel

__all__ = ["now", "today", "localtime", "business_zone", "frozen", "offset", "travel", "set_frozen", "reset"]
