"""The engine's version: plugins declare the range they work with (PluginAppConfig.compatibility)."""
__version__ = "1.0.0"
