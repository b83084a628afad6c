"""Find plugin apps before Django starts (settings.py uses this).

A plugin is a Django app. Built-in plugins are listed in settings; third-party ones
declare an entry point in the `marketplace.plugins` group whose value is the import
path of their Django app package, e.g. in pyproject.toml:

    [project.entry-points."marketplace.plugins"]
    guestbook = "guestbook"

Nothing is imported here: the entry point is only read, so a plugin's models are
loaded by Django like any other app's.
"""
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "marketplace.plugins"


def entry_point_plugin_apps():
    return [ep.value.split(":", 1)[0].strip() for ep in entry_points(group=ENTRY_POINT_GROUP)]


def discover_plugin_apps(builtin):
    apps = []
    for app in [*builtin, *entry_point_plugin_apps()]:
        if app not in apps:
            apps.append(app)
    return apps
