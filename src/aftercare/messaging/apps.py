from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "aftercare.messaging"
    label = "messaging"
    verbose_name = "Messaging (outbox, channels, templates, tracking)"

    def ready(self) -> None:
        from aftercare.core import privacy_registry
        from aftercare.customers import merging as customer_merging
        from aftercare.events import bus
        from aftercare.jobs import worker
        from aftercare.messaging import handlers, merging, privacy, sender

        worker.register_poller("messaging.send", sender.send_due, every_seconds=1)
        # Attribution: an order placed within the window after a tracked click.
        bus.subscribe("order.created", handlers.attribute_order, history=bus.History.SKIP)
        privacy_registry.register_exporter("messages", privacy.export_messages)
        privacy_registry.register_exporter("suppressions", privacy.export_suppressions)
        privacy_registry.register_eraser("messages", privacy.erase_messages, order=50)
        customer_merging.register("messaging", merging.merge_messages)
