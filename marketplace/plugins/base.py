"""What a plugin is: a Django app whose AppConfig subclasses PluginAppConfig."""
from django.apps import AppConfig


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
      ``"<app>.hooks"``; a missing module means no hooks).
    """

    default = False  # Django must not pick this base class as an app's config
    plugin_name = None
    plugin_description = ""
    settings_schema = None
    default_active = True
    vendor_configurable = False
    hooks_module = None

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

    @property
    def is_builtin(self):
        from django.conf import settings

        return self.name in settings.MARKETPLACE_BUILTIN_PLUGINS
