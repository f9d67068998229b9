from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from aftercare.api.v1 import api
from aftercare.core.health import healthz
from aftercare.ingest.webhooks.view import woocommerce_webhook

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path(
        "webhooks/woocommerce/<slug:store_slug>/",
        woocommerce_webhook,
        name="woocommerce-webhook",
    ),
    path("dashboard/", include("aftercare.dashboard.urls")),
    path("c/", include("aftercare.portal.urls")),  # customer pages (signed links)
    path("m/", include("aftercare.portal.tracking_urls")),  # message opens and clicks
    path("", RedirectView.as_view(pattern_name="dashboard:overview"), name="root"),
]
