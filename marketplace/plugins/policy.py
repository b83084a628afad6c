"""What happens when a plugin's hook implementation fails, declared once per hook spec.

Every hook spec names one policy (`@hookspec(policy=NOTIFY)`); the manager applies it to
each implementation when the plugin is registered. Three questions decide a policy:

- does a crash (any exception that is not a `MarketplaceError`) stop the operation?
- does a deliberate refusal (a `MarketplaceError` the plugin raises) stop it?
- does the call run inside a savepoint, so that rows a failing plugin wrote vanish?

| policy    | crash                              | refusal (MarketplaceError)  | savepoint |
|-----------|------------------------------------|-----------------------------|-----------|
| STARTUP   | raised: the engine refuses to start | raised                     | no        |
| ENRICH    | contained: no contribution          | raised to the client       | no        |
| NOTIFY    | contained                           | contained                  | yes       |
| GUARD     | blocks: `PLUGIN_FAILED` error       | raised to the client       | yes       |

The savepoint of a call made inside a transaction is taken just before the
implementation's first SQL statement (an implementation that touches no table costs no
round trip); a call made outside any transaction runs in its own.

Contained failures are logged (logger `marketplace.plugins`) and reported to platform
staff in the response's `extensions.pluginFailures`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    name: str
    contain_crash: bool
    contain_refusal: bool
    savepoint: bool

    def __repr__(self):
        return self.name


STARTUP = Policy("STARTUP", contain_crash=False, contain_refusal=False, savepoint=False)
ENRICH = Policy("ENRICH", contain_crash=True, contain_refusal=False, savepoint=False)
NOTIFY = Policy("NOTIFY", contain_crash=True, contain_refusal=True, savepoint=True)
GUARD = Policy("GUARD", contain_crash=False, contain_refusal=False, savepoint=True)

POLICIES = {p.name: p for p in (STARTUP, ENRICH, NOTIFY, GUARD)}
