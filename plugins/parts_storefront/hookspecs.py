"""Hooks this plugin publishes for other plugins (`PluginAppConfig.hookspecs`): read-only
selectors over members' garages, fitment and part numbers, e.g. for a store's customer
segments ("drives a Corolla"), or for a repair-booking plugin that checks a service or a
part fits the member's car and that the part a workshop installed is the part that was sold.

Call them through the public API, never by importing this plugin, passing every argument
by name:

    from marketplace.plugins import call_hook, has_hook

    if has_hook("parts_garage_vehicle"):
        car = call_hook("parts_garage_vehicle", user_id=user.pk, garage_vehicle_id=7)

All are `firstresult` hooks: `call_hook` returns the single answer, or None while this
plugin is switched off (or when a read crashed: ENRICH). The contracts are in README.md.
"""
from marketplace.plugins import ENRICH, hookspec


@hookspec(policy=ENRICH, firstresult=True)
def garage_vehicles(user_ids):
    """The garage vehicles of the users in `user_ids` (ints), in one query:
    `{user_id: [{"vehicle_id": int, "make": str (slug), "model": str (slug),
    "year": int (the member's model year), "engine": str, "is_default": bool}, ...]}`;
    users with an empty garage are left out."""


@hookspec(policy=ENRICH, firstresult=True)
def parts_garage_vehicle(user_id, garage_vehicle_id):
    """The member's own car `garage_vehicle_id` (an int), or None when it is not theirs (or
    does not exist). A dict: {"garage_vehicle_id": int, "vehicle_id": int, "year": int,
    "label": str (e.g. "丰田 卡罗拉 2019 1.2T"), "nickname": str}."""


@hookspec(policy=ENRICH, firstresult=True)
def parts_fitment(variant_ids, vehicle_id, year):
    """Whether each variant fits the vehicle in model year `year` (an int, or None for any
    year of the vehicle): {variant_id: True | False | None}, None meaning the variant has
    no fitment data at all (a universal item). Every id of `variant_ids` is answered."""


@hookspec(policy=ENRICH, firstresult=True)
def parts_numbers(variant_ids):
    """The part numbers of each variant, normalised (see `parts_normalize_number`):
    {variant_id: ["0446502220", ...]} (an empty list for a variant without any)."""


@hookspec(policy=ENRICH, firstresult=True)
def parts_normalize_number(number):
    """The lookup form of a part number: NFKC, upper case, separators (spaces, hyphens,
    dots, slashes, underscores) removed. "04465-02220" -> "0446502220"."""
