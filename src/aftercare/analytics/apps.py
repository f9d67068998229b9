from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "aftercare.analytics"
    label = "analytics"
    verbose_name = "Analytics"
