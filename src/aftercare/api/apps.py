from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "aftercare.api"
    label = "api"
    verbose_name = "API"
