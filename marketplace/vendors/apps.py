from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "marketplace.vendors"
    label = "vendors"
    verbose_name = "Vendors"

    def ready(self):
        from marketplace.core.events import register_event_type

        for name, description in {
            "vendor_applied": "A member applied to open a vendor (payload: vendor_id, kind).",
            "vendor_approved": "Platform staff approved a vendor (payload: vendor_id).",
            "vendor_rejected": "Platform staff rejected an application (payload: vendor_id, reason).",
            "vendor_suspended": "A vendor was suspended; its products left listings (payload: vendor_id, reason).",
            "vendor_reinstated": "A suspended vendor was reinstated (payload: vendor_id).",
            "vendor_closed": "A vendor closed (payload: vendor_id, reason).",
            "vendor_updated": "A vendor's profile changed (payload: vendor_id).",
        }.items():
            register_event_type(name, description)
