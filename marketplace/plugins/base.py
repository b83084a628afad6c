"""What a plugin is: a Django app whose AppConfig subclasses PluginAppConfig."""
from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class PluginAppConfig(AppConfig):
    """Declare a plugin.

    Attributes to set on the subclass:

    - ``plugin_name``: the stable identifier (defaults to the app label);
    - ``plugin_description``: one line shown to platform staff;
    - ``settings_schema``: a ``pydantic.BaseModel`` subclass: the typed configuration,
      validated before it is stored (None: the plugin has no settings);
    - ``default_active``: whether the plugin is on before anybody configures it;
    - ``vendor_configurable``: whether a vendor scope may override settings and
      switch the plugin off for one vendor;
    - ``hooks_module``: the module holding ``@hookimpl`` functions (default
      ``"<app>.hooks"``; a missing module means no hooks);
    - ``hookspecs``: a module path holding ``@hookspec`` functions this plugin publishes
      for other plugins (pluggy's ``add_hookspecs``), or None;
    - ``compatibility``: the engine versions this plugin works with, a PEP 440 specifier
      such as ``">=1.0,<2"``; the engine refuses to start with an incompatible plugin;
    - ``requires_entitlement``: the name of a vendor entitlement (e.g. ``"vip_tiers"``)
      without which the plugin is off for that vendor and cannot be switched on there.

    Override ``check_activation(vendor_id)`` to refuse activation for a scope with a
    clear reason (raise ``ValidationError``).
    """

    default = False  # Django must not pick this base class as an app's config
    plugin_name = None
    plugin_description = ""
    settings_schema = None
    default_active = True
    vendor_configurable = False
    hooks_module = None
    hookspecs = None
    compatibility = ">=1.0,<2"
    requires_entitlement = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A plugin's apps.py imports this base class too; mark the subclass as the
        # app's default config so Django picks it without extra settings.
        if "default" not in cls.__dict__:
            cls.default = True

    def __init__(self, app_name, app_module):
        super().__init__(app_name, app_module)
        if not self.plugin_name:
            self.plugin_name = self.label
        if not self.hooks_module:
            self.hooks_module = f"{self.name}.hooks"
        check_compatibility(self.plugin_name, self.compatibility)

    @property
    def is_builtin(self):
        from django.conf import settings

        return self.name in settings.MARKETPLACE_BUILTIN_PLUGINS

    def check_activation(self, vendor_id):
        """Refuse to be switched on for this scope (vendor_id None = the platform) by
        raising `marketplace.plugins.ValidationError` with a reason the caller will see.
        Called by `pluginUpdate` before a switch-on is stored. The default accepts."""


def check_compatibility(plugin_name, specifier):
    """Raise ImproperlyConfigured when the engine's version is outside `specifier`."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from marketplace.version import __version__

    try:
        accepted = SpecifierSet(specifier or "")
    except InvalidSpecifier:
        raise ImproperlyConfigured(f"Plugin {plugin_name!r} declares an invalid compatibility {specifier!r}") from None
    if __version__ not in accepted:
        raise ImproperlyConfigured(
            f"Plugin {plugin_name!r} supports engine versions {specifier}, but this engine is "
            f"{__version__}: upgrade the plugin or remove it from the installed plugins.")
