from pydantic import BaseModel, Field, SecretStr

from marketplace.plugins import PluginAppConfig


class GuestbookSettings(BaseModel):
    greeting: str = "Welcome"
    max_length: int = Field(200, ge=1, le=1000)
    moderation_api_key: SecretStr | None = None
    fail_on_events: bool = False  # lets the tests make this plugin misbehave
    refuse_events: bool = False  # ... or refuse on purpose (a MarketplaceError)


class GuestbookConfig(PluginAppConfig):
    name = "guestbook"
    plugin_name = "guestbook"
    plugin_description = "A guestbook members can sign."
    settings_schema = GuestbookSettings
