from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "aftercare.exports"
    label = "exports"
    verbose_name = "Exports (CSV files for staff)"

    def ready(self) -> None:
        from aftercare.exports import services
        from aftercare.jobs import worker

        worker.register_periodic(
            "exports.purge_expired", services.purge_expired, every_seconds=60 * 60
        )
