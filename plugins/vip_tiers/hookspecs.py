"""Hooks this plugin publishes for other plugins (`PluginAppConfig.hookspecs`). Call them
through the public API, never by importing this plugin, and pass every argument by name:

    from marketplace.plugins import call_hook, has_hook

    if has_hook("vip_customer"):
        account = call_hook("vip_customer", user_id=7, store_id=3)

All are `firstresult` hooks (one answer, or None while the plugin is switched off). A
store is named `store_id` (its vendor id): `vendor_id` is `call_hook`'s scope argument.
"""
from marketplace.plugins import ENRICH, GUARD, hookspec


@hookspec(policy=GUARD, firstresult=True)
def vip_deliver_message(message):
    """Deliver one campaign message to one customer. `message` is a dict: `channel`
    ("email" or "sms"), `user_id`, `email`, `phone`, `name`, `vendor_id`, `store` (its
    name), `subject`, `body` (placeholders filled in), `campaign_id`, `reference` (unique
    per campaign and customer: use it as your idempotency key). Return a short text
    ("sent", a provider's message id) when you delivered it, or None when the channel is
    not yours. This plugin answers "email" through Django's mail backend (last, so a
    plugin of yours may take e-mail over); an SMS plugin answers "sms". Raising (or
    crashing) records a failed delivery for that customer; the others still go out."""


@hookspec(policy=ENRICH, firstresult=True)
def vip_customer(user_id, store_id):
    """The customer's standing at the store, or None when they have no account there:
    {"tier": str (name) or None, "tier_rank": int (0 = none), "percent_off": Decimal,
     "net_spend": Decimal (12 months), "points": int (available; negative = debt),
     "points_pending": int, "cashback": Decimal, "cashback_pending": Decimal}."""


@hookspec(policy=ENRICH, firstresult=True)
def vip_in_segment(user_id, segment_id):
    """Whether the customer is a member of the segment (as last computed): True/False.
    Use it as a condition, e.g. for a store coupon."""
