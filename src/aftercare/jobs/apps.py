from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "aftercare.jobs"
    label = "jobs"
    verbose_name = "Jobs"
