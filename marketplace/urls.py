from django.contrib import admin
from django.urls import include, path

from marketplace.api.views import GraphQLView
from marketplace.core.views import health
from marketplace.payments.views import gateway_webhook

urlpatterns = [
    path("graphql/", GraphQLView.as_view(), name="graphql"),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("webhooks/payments/<slug:gateway>/", gateway_webhook, name="payment-webhook"),
    # The storefront and the vendor dashboard (storefront/, docs/storefront.md): / and /shop/...
    path("", include("storefront.urls")),
]
