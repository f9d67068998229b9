from aftercare.dashboard.views import (
    account,
    customers,
    flow_editor,
    flows,
    messages,
    orders,
    overview,
    queue,
    settings,
    templates,
)

app_name = "dashboard"
urlpatterns = [
    *account.urlpatterns,
    *overview.urlpatterns,
    *customers.urlpatterns,
    *orders.urlpatterns,
    *flows.urlpatterns,
    *flow_editor.urlpatterns,
    *queue.urlpatterns,
    *messages.urlpatterns,
    *templates.urlpatterns,
    *settings.urlpatterns,
]
