from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "marketplace.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from marketplace.core.events import register_event

        from .events import EVENTS

        for event_class in EVENTS:
            register_event(event_class)
