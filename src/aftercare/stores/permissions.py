"""What each staff role may do in a store. One table, read by the dashboard and the API, so a
rule is never enforced in one place and forgotten in another.

    permissions.allows(membership=m, permission=Permission.VIEW_REVENUE)
"""

from __future__ import annotations

import enum

from aftercare.stores.models import StaffMembership, StaffRole


class Permission(enum.StrEnum):
    VIEW_REVENUE = "view_revenue"  # money on the overview and in reports
    MANAGE_SETTINGS = "manage_settings"  # store settings, WooCommerce connection
    MANAGE_FLOWS = "manage_flows"  # create/edit/pause flows, cancel or run queued steps
    MANAGE_STAFF = "manage_staff"  # invite/remove staff, change roles, API tokens
    EXPORT_DATA = "export_data"  # CSV exports, GDPR export and erasure


_ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    StaffRole.OWNER: frozenset(Permission),
    StaffRole.MANAGER: frozenset(
        {
            Permission.VIEW_REVENUE,
            Permission.MANAGE_SETTINGS,
            Permission.MANAGE_FLOWS,
            Permission.EXPORT_DATA,
        }
    ),
    StaffRole.AGENT: frozenset(),
}


def allows(*, membership: StaffMembership, permission: Permission) -> bool:
    if permission in _ROLE_PERMISSIONS.get(membership.role, frozenset()):
        return True
    # The owner decides whether agents see revenue (store setting, on by default).
    return permission is Permission.VIEW_REVENUE and membership.store.agents_see_revenue


def granted(*, membership: StaffMembership) -> frozenset[Permission]:
    return frozenset(p for p in Permission if allows(membership=membership, permission=p))
