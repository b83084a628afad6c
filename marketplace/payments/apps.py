from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "marketplace.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self):
        from marketplace.core.events import register_event, subscribe
        from marketplace.orders.events import OrderCancelled

        from .events import EVENTS

        for event_class in EVENTS:
            register_event(event_class)
        subscribe(void_payments_of_cancelled_orders, OrderCancelled)


def void_payments_of_cancelled_orders(event):
    from .services import void_open_payments

    void_open_payments(event.order_id)
