"""Incoming payment webhooks: /webhooks/payments/<gateway>/."""
import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.core.errors import MarketplaceError
from marketplace.plugins.manager import configuration_scope

from . import services
from .gateways import WebhookRejected, get_gateway

logger = logging.getLogger("marketplace.payments")


@csrf_exempt
@require_POST
def gateway_webhook(request, gateway):
    with configuration_scope():
        try:
            handler = get_gateway(gateway)
        except MarketplaceError:
            return JsonResponse({"error": "unknown gateway"}, status=404)
        try:
            events = handler.parse_webhook(request.body, request.headers)
        except WebhookRejected as exc:
            logger.warning("Rejected %s webhook: %s", gateway, exc)
            return JsonResponse({"error": str(exc)}, status=400)
        except MarketplaceError as exc:  # e.g. the gateway is not configured
            logger.error("Cannot verify %s webhooks: %s", gateway, exc.message)
            return JsonResponse({"error": exc.message}, status=503)
        try:
            results = [services.process_event(handler.name, event) for event in events]
        except MarketplaceError as exc:  # e.g. a plugin refused in a transactional hook: retry later
            logger.error("Could not apply a %s webhook event: %s", gateway, exc.message)
            return JsonResponse({"error": exc.message, "retry": True}, status=503)
    return JsonResponse({"received": len(events), "results": results})
