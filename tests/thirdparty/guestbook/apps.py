from pydantic import BaseModel, Field

from marketplace.plugins import PluginAppConfig


class GuestbookSettings(BaseModel):
    greeting: str = "Welcome"
    max_length: int = Field(200, ge=1, le=1000)
    fail_on_events: bool = False  # lets the tests make this plugin misbehave


class GuestbookConfig(PluginAppConfig):
    name = "guestbook"
    plugin_name = "guestbook"
    plugin_description = "A guestbook members can sign."
    settings_schema = GuestbookSettings
