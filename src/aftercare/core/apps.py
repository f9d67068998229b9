from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "aftercare.core"
    label = "core"
    verbose_name = "Core"
