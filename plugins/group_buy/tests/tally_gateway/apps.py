from marketplace.plugins import PluginAppConfig


class TallyGatewayConfig(PluginAppConfig):
    name = "plugins.group_buy.tests.tally_gateway"
    label = "tally_gateway"
    plugin_name = "tally_gateway"
    plugin_description = "Test gateway counting the money it moves (group-buy killed-worker test)."
