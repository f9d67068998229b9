"""Settings pages: the store's settings (home), the WooCommerce connection, staff and roles,
API tokens, and GDPR requests. Each module lists its own `urlpatterns`."""

from aftercare.dashboard.views.settings import connection, general, privacy, staff, tokens

urlpatterns = [
    *general.urlpatterns,
    *connection.urlpatterns,
    *staff.urlpatterns,
    *tokens.urlpatterns,
    *privacy.urlpatterns,
]
