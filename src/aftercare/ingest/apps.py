from django.apps import AppConfig
from django.conf import settings


class IngestConfig(AppConfig):
    name = "aftercare.ingest"
    label = "ingest"
    verbose_name = "Ingest"

    def ready(self) -> None:
        from aftercare.customers import merging as customer_merging
        from aftercare.ingest import handlers, merging
        from aftercare.ingest.webhooks import processing
        from aftercare.jobs import worker

        customer_merging.register("mirror", merging.merge_mirror)
        # The webhook inbox is its own durable queue: the worker drains it continuously.
        worker.register_poller("ingest.webhook_inbox", processing.drain_for, every_seconds=0.5)
        if settings.WOO_RECONCILE_MINUTES > 0:
            worker.register_periodic(
                "ingest.reconcile",
                handlers.enqueue_reconciliations,
                every_seconds=settings.WOO_RECONCILE_MINUTES * 60,
            )
