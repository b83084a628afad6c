"""Hooks the guestbook publishes for other plugins (PluginAppConfig.hookspecs)."""
from marketplace.plugins import ENRICH, hookspec


@hookspec(policy=ENRICH, firstresult=True)
def guestbook_signatures(email):
    """How many times `email` signed the guestbook (an int)."""
