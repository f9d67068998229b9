from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "aftercare.messaging"
    label = "messaging"
    verbose_name = "Messaging (outbox, channels, templates, tracking)"

    def ready(self) -> None:
        from aftercare.events import bus
        from aftercare.jobs import worker
        from aftercare.messaging import handlers, sender

        worker.register_poller("messaging.send", sender.send_due, every_seconds=1)
        # Attribution: an order placed within the window after a tracked click.
        bus.subscribe("order.created", handlers.attribute_order, history=bus.History.SKIP)
