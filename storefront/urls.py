"""/shop/ and everything under it is one page (the client routes); / leads there."""
from django.urls import path, re_path
from django.views.generic import RedirectView

from . import views

app_name = "storefront"
urlpatterns = [
    path("", RedirectView.as_view(url="/shop/", permanent=False), name="root"),
    re_path(r"^shop/(?:.*)$", views.shell, name="shell"),
]
