from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "aftercare.events"
    label = "events"
    verbose_name = "Events"
