"""Hooks this plugin publishes for other plugins (`PluginAppConfig.hookspecs`).

Call them through the public API, never by importing this plugin:

    from marketplace.plugins import call_hook, has_hook

    if has_hook("is_member") and call_hook("is_member", user_id=user.pk, at=None):
        benefits = call_hook("member_benefits", user_id=user.pk, at=None)

All are `firstresult` hooks: `call_hook` returns the single answer (None when the
membership plugin is switched off, or when a read hook failed: treat None as "not a
member"). Pass every argument by name. Times are aware datetimes (None = now on the
engine clock); money is Decimal CNY with 2 places. The contracts are in README.md.
"""
from marketplace.plugins import ENRICH, GUARD, hookspec


@hookspec(policy=ENRICH, firstresult=True)
def is_member(user_id, at):
    """Whether the user (`user_id`, an int) holds a paid membership whose period covers
    `at` (an aware datetime, or None for now). Returns True or False; a refunded or
    revoked membership no longer counts, a scheduled renewal counts from its start."""


@hookspec(policy=ENRICH, firstresult=True)
def member_benefits(user_id, at):
    """The benefits of the membership covering `at` (None = now), or None when the user is
    not a member then. A dict:

        {"membership_id": int, "plan": str (plan code), "starts_at": datetime,
         "ends_at": datetime, "parts_discount_percent": Decimal,
         "labour_discount_percent": Decimal, "free_towing_per_term": int,
         "free_towing_km": int (per tow), "free_towing_used": int, "free_towing_left": int,
         "savings_this_term": Decimal}
    """


@hookspec(policy=GUARD, firstresult=True)
def record_member_benefit(user_id, benefit, reference, value, at):
    """Record that the member consumed a benefit of the membership covering `at` (None =
    now): `benefit` "towing" (one free tow; `value` its list cost, None = the plugin's
    `towing_list_price` setting) or "labour" (`value` the labour discount given).
    `reference` (a string, e.g. "booking:42") makes it idempotent: the same reference
    twice records once and returns the first use. Run it inside your transaction (it is
    GUARD: a refusal or crash rolls back with you). Returns
    {"use_id": int, "membership_id": int, "benefit": str, "value": Decimal,
     "free_towing_left": int}. Raises ValidationError: NOT_FOUND (field "user_id": not a
    member at `at`), LIMIT_EXCEEDED (field "benefit": no free tow left this term),
    INVALID (unknown benefit, negative or non-finite value, empty reference)."""


@hookspec(policy=GUARD, firstresult=True)
def release_member_benefit(benefit, reference):
    """Give back a benefit use recorded with `reference` (e.g. a tow cancelled before it
    happened): it no longer counts against the allowance nor in refund quotes. Returns
    True when released, False when unknown or already released."""
