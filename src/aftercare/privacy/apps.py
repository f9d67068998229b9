from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "aftercare.privacy"
    label = "privacy"
    verbose_name = "Privacy (GDPR export and erasure)"
