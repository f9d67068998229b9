from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "aftercare.stores"
    label = "stores"
    verbose_name = "Stores"
