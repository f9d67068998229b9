
from aftercare.dashboard.views import account, customers, orders, overview, settings

app_name = "dashboard"
urlpatterns = [
    *account.urlpatterns,
    *overview.urlpatterns,
    *customers.urlpatterns,
    *orders.urlpatterns,
    *settings.urlpatterns,
]
