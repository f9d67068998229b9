from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "aftercare.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
