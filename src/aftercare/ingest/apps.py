from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "aftercare.ingest"
    label = "ingest"
    verbose_name = "Ingest"
