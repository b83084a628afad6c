from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel, Field

from marketplace.plugins import PluginAppConfig


class DevGatewaySettings(BaseModel):
    refund_mode: str = Field("instant", pattern="^(instant|async)$",
                             description='"instant": refunds succeed at once; "async": they stay pending until '
                                         "devRefundSettle (as WeChat Pay refunds do).")


class DevGatewayConfig(PluginAppConfig):
    name = "plugins.dev_gateway"
    label = "dev_gateway"
    plugin_name = "dev_gateway"
    plugin_description = ("Development payment gateway 'dev': authorises, captures and refunds with no network, "
                          "through the same state machine and events as a real gateway. Never in production.")
    settings_schema = DevGatewaySettings

    def ready(self):
        from django.conf import settings

        if settings.IS_PRODUCTION:
            raise ImproperlyConfigured("The development payment gateway (plugins.dev_gateway) must not run with "
                                       "MARKETPLACE_ENV=production: remove it from MARKETPLACE_BUILTIN_PLUGINS.")
