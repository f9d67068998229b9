from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "aftercare.catalog"
    label = "catalog"
    verbose_name = "Catalog"
