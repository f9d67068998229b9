"""Places in the staff dashboard that other modules fill without the dashboard knowing them.

A module registers, from its `AppConfig.ready()`:

    from aftercare.core import slots

    slots.register_panel(slots.Panel(
        slot=slots.CUSTOMER_SIDEBAR, key="loyalty.points", title=_("Points"),
        template="loyalty/panels/customer_points.html",
        context=points_panel_context,      # (store=, subject=, period=…) -> dict for the template
        order=30, permission="view_revenue",
    ))
    slots.register_nav(slots.NavItem(key="flows", label=_("Flows"), url_name="flows:list",
                                      order=20))

The dashboard renders `panels(slot)` in order, each with its own template and context, and
shows `nav_items()` in the side bar. Panels get keyword arguments only, and must accept
unknown ones (`**_`): slots may pass more facts later without breaking modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

# The slots the shell offers. Kwargs passed to a panel's context function are in brackets.
OVERVIEW = "overview"  # cards under the headline figures [store, period, previous]
CUSTOMER_MAIN = "customer.main"  # sections of the customer 360 [store, customer]
CUSTOMER_SIDEBAR = "customer.sidebar"  # side panels of the customer 360 [store, customer]
ORDER_SIDEBAR = "order.sidebar"  # side panels of an order page [store, order]
SLOTS = frozenset({OVERVIEW, CUSTOMER_MAIN, CUSTOMER_SIDEBAR, ORDER_SIDEBAR})

PanelContext = Callable[..., Mapping[str, Any]]


@dataclass(frozen=True)
class Panel:
    slot: str
    key: str  # unique per slot, e.g. "loyalty.points"
    title: str | Promise  # a lazy translation, usually
    template: str
    context: PanelContext
    order: int = 100
    permission: str | None = None  # a stores.permissions.Permission value, or None for everyone


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    order: int = 100
    permission: str | None = None
    icon: str = ""  # a name from dashboard/icons.html


_panels: dict[str, dict[str, Panel]] = {slot: {} for slot in SLOTS}
_nav: dict[str, NavItem] = {}


def register_panel(panel: Panel) -> None:
    if panel.slot not in SLOTS:
        raise ValueError(f"unknown slot {panel.slot!r}; slots: {sorted(SLOTS)}")
    # Re-registering the same key replaces it (app reloads in tests, development autoreload).
    _panels[panel.slot][panel.key] = panel


def panels(slot: str) -> list[Panel]:
    return sorted(_panels[slot].values(), key=lambda p: (p.order, p.key))


def register_nav(item: NavItem) -> None:
    _nav[item.key] = item


def nav_items() -> list[NavItem]:
    return sorted(_nav.values(), key=lambda n: (n.order, n.key))
