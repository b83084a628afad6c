"""Hooks this plugin publishes for other plugins (`PluginAppConfig.hookspecs`): read-only
views of members' garages, e.g. for a store's customer segments ("drives a Corolla").

    from marketplace.plugins import call_hook, has_hook

    if has_hook("garage_vehicles"):
        garages = call_hook("garage_vehicles", user_ids=[1, 2, 3])

`call_hook` returns the single answer, or None while the plugin is switched off.
"""
from marketplace.plugins import ENRICH, hookspec


@hookspec(policy=ENRICH, firstresult=True)
def garage_vehicles(user_ids):
    """The garage vehicles of the users in `user_ids` (ints), in one query:
    `{user_id: [{"vehicle_id": int, "make": str (slug), "model": str (slug),
    "year": int (the member's model year), "engine": str, "is_default": bool}, ...]}`;
    users with an empty garage are left out."""
