from datetime import timedelta

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "aftercare.portal"
    label = "portal"
    verbose_name = "Customer pages"

    def ready(self) -> None:
        from aftercare.core import signed_links
        from aftercare.portal import log_redaction

        log_redaction.install()  # tokens are credentials: no request log shows one

        # Preference links go out in every marketing mail: they live long (unsubscribing works
        # even after expiry). Order links follow an order's life: delivery, returns.
        signed_links.register_purpose(
            name="preferences", url_name="portal:preferences", ttl=timedelta(days=180)
        )
        signed_links.register_purpose(name="order", url_name="portal:order", ttl=timedelta(days=90))
