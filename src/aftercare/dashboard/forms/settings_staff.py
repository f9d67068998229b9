"""Adding staff and changing their role."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aftercare.stores.models import StaffRole

ROLE_CHOICES = [
    (StaffRole.OWNER, _("Owner")),
    (StaffRole.MANAGER, _("Manager")),
    (StaffRole.AGENT, _("Agent")),
]
ROLE_HELP = _(
    "Owner: everything, including staff and API tokens. Manager: settings, revenue and data "
    "exports. Agent: customers, orders and the daily work; revenue only if you allow it below."
)


class AddStaffForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"), choices=ROLE_CHOICES, initial=StaffRole.AGENT, help_text=ROLE_HELP
    )

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
