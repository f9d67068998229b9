from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "aftercare.privacy"
    label = "privacy"
    verbose_name = "Privacy (GDPR export and erasure)"

    def ready(self) -> None:
        from aftercare.core import privacy_registry
        from aftercare.privacy import erasers, exporters

        for name, export in (
            ("customers", exporters.export_customers),
            ("orders", exporters.export_orders),
            ("shop_reviews", exporters.export_shop_reviews),
            ("customer_stats", exporters.export_customer_stats),
            ("events", exporters.export_events),
            ("webhook_deliveries", exporters.export_webhook_deliveries),
        ):
            privacy_registry.register_exporter(name, export, order=10)
        # Searches by email or order first; the customer rows (whose email changes) last.
        privacy_registry.register_eraser(
            "webhook_deliveries", erasers.erase_webhook_deliveries, order=10
        )
        privacy_registry.register_eraser("events", erasers.erase_events, order=20)
        privacy_registry.register_eraser("shop_reviews", erasers.erase_shop_reviews, order=30)
        privacy_registry.register_eraser("job_errors", erasers.erase_job_errors, order=35)
        privacy_registry.register_eraser("orders", erasers.erase_orders, order=40)
        privacy_registry.register_eraser("customers", erasers.erase_customers, order=1000)
