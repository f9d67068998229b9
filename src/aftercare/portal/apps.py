from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "aftercare.portal"
    label = "portal"
    verbose_name = "Customer pages"
