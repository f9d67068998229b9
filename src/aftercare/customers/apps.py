from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "aftercare.customers"
    label = "customers"
    verbose_name = "Customers"
