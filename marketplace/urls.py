from django.contrib import admin
from django.urls import path

from marketplace.api.views import GraphQLView
from marketplace.core.views import health

urlpatterns = [
    path("graphql/", GraphQLView.as_view(), name="graphql"),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
]
