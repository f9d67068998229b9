
from aftercare.dashboard.views import account, overview

app_name = "dashboard"
urlpatterns = [
    *account.urlpatterns,
    *overview.urlpatterns,
]
