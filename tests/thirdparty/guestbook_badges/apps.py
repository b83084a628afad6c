from marketplace.plugins import PluginAppConfig


class BadgesConfig(PluginAppConfig):
    name = "guestbook_badges"
    plugin_name = "guestbook_badges"
    plugin_description = "Members who signed the guestbook get a signer's price (uses the guestbook's own hook)."
