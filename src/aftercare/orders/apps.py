from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "aftercare.orders"
    label = "orders"
    verbose_name = "Orders"
