from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "aftercare.demo"
    label = "demo"
    verbose_name = "Demo store"
