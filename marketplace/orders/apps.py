from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "marketplace.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self):
        from marketplace.core.events import register_event_type

        for name, description in {
            "order_created": "A checkout became an order (payload: order_id, number, vendor_ids, total).",
            "order_paid": "An order's payment was captured (payload: order_id, number, amount).",
            "order_fulfilled": "A vendor shipped its part of an order (payload: order_id, vendor_order_id, vendor_id).",
            "order_completed": "An order was completed (payload: order_id).",
            "order_cancelled": "An order was cancelled or expired unpaid (payload: order_id, reason).",
            "order_refunded": "Money was refunded (payload: order_id, vendor_order_id, amount).",
        }.items():
            register_event_type(name, description)
