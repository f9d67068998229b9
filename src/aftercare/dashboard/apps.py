from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "aftercare.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from aftercare.core import slots
        from aftercare.stores.permissions import Permission

        for item in (
            slots.NavItem(
                key="overview",
                label=_("Overview"),
                url_name="dashboard:overview",
                order=0,
                icon="home",
            ),
            slots.NavItem(
                key="customers",
                label=_("Customers"),
                url_name="dashboard:customers",
                order=10,
                icon="users",
            ),
            slots.NavItem(
                key="orders", label=_("Orders"), url_name="dashboard:orders", order=20, icon="bag"
            ),
            slots.NavItem(
                key="flows", label=_("Flows"), url_name="dashboard:flows", order=30, icon="flow"
            ),
            slots.NavItem(
                key="queue", label=_("Queue"), url_name="dashboard:queue", order=31, icon="queue"
            ),
            slots.NavItem(
                key="messages",
                label=_("Messages"),
                url_name="dashboard:messages",
                order=40,
                icon="mail",
            ),
            slots.NavItem(
                key="templates",
                label=_("Templates"),
                url_name="dashboard:templates",
                order=41,
                icon="chat",
            ),
            slots.NavItem(
                key="settings",
                label=_("Settings"),
                url_name="dashboard:settings",
                order=900,
                icon="gear",
                permission=Permission.MANAGE_SETTINGS,
            ),
        ):
            slots.register_nav(item)
