from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "aftercare.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from aftercare.analytics import handlers, merging
        from aftercare.customers import merging as customer_merging
        from aftercare.jobs import worker

        customer_merging.register("analytics", merging.merge_stats)
        # Figures follow the event log within a minute; the nightly pass re-segments (recency
        # moves with the calendar) and rebuilds from the mirror as a safety net.
        worker.register_periodic("analytics.refresh", handlers.schedule_refreshes, every_seconds=60)
        worker.register_periodic(
            "analytics.nightly", handlers.schedule_nightly, every_seconds=24 * 3600
        )
