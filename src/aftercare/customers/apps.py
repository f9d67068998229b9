from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "aftercare.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from aftercare.customers import merging

        # A guest merged into an account: each context moves its own rows (customers.merging).
        merging.register("customers", merging.merge_customer)
