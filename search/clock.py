"""The current time for "open now": the engine's injectable clock (marketplace.core.clock)."""
from marketplace.core.clock import now  # noqa: F401
