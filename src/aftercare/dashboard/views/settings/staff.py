"""Staff and roles (owners only): who works on the store, in which role; adding people by
email (a new account gets a link to choose its password); whether agents see revenue."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aftercare.core.errors import Conflict, InvalidInput, NotFound
from aftercare.dashboard.access import Staff, staff_page
from aftercare.dashboard.forms.settings_general import RevenueVisibilityForm
from aftercare.dashboard.forms.settings_staff import AddStaffForm, RoleForm
from aftercare.dashboard.views.settings.tabs import settings_tabs
from aftercare.stores import settings_services
from aftercare.stores.models import StaffMembership, StaffRole
from aftercare.stores.permissions import Permission


def _set_password_link(request: HttpRequest) -> settings_services.LinkBuilder:
    def build(uidb64: str, token: str) -> str:
        return request.build_absolute_uri(
            reverse("dashboard:password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
        )

    return build


def _sign_in_link(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("dashboard:login"))


def _inviter(request: HttpRequest) -> str:
    return str(getattr(request.user, "email", "") or request.user.get_username())


def _member(staff: Staff, membership_id: int) -> StaffMembership:
    try:
        return settings_services.get_membership(store=staff.store, membership_id=membership_id)
    except NotFound as exc:  # another store's member does not exist here
        raise Http404(str(exc)) from exc


@require_http_methods(["GET", "POST"])
@staff_page(permission=Permission.MANAGE_STAFF)
def staff_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    store = staff.store
    form = AddStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = settings_services.add_staff_member(
                store=store,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=_inviter(request),
                set_password_link=_set_password_link(request),
                sign_in_link=_sign_in_link(request),
            )
        except InvalidInput as exc:
            form.add_error("email", str(exc))
        else:
            email = form.cleaned_data["email"]
            if invitation.already_member:
                messages.info(
                    request,
                    _("%(email)s already works on this store; change their role below.")
                    % {"email": email},
                )
            elif invitation.email_error:
                messages.warning(
                    request,
                    _(
                        "%(email)s was added, but the email could not be sent "
                        "(%(error)s). Check the mail settings, then use Resend."
                    )
                    % {"email": email, "error": invitation.email_error},
                )
            elif invitation.new_user:
                messages.success(
                    request,
                    _("%(email)s was added and got an email to choose a password.")
                    % {"email": email},
                )
            else:
                messages.success(
                    request,
                    _("%(email)s was added and told by email.") % {"email": email},
                )
            return redirect("dashboard:settings_staff")
    memberships = list(settings_services.staff_members(store=store))
    members = [
        {
            "membership": m,
            "is_you": m.user_id == request.user.pk,
            "pending": not m.user.has_usable_password(),
            "role_form": RoleForm(initial={"role": m.role}, prefix=f"m{m.pk}"),
        }
        for m in memberships
    ]
    return render(
        request,
        "dashboard/settings/staff.html",
        {
            "tabs": settings_tabs(staff=staff, current="staff"),
            "members": members,
            "owner_count": sum(1 for m in memberships if m.role == StaffRole.OWNER),
            "form": form,
            "revenue_form": RevenueVisibilityForm(
                initial={"agents_see_revenue": store.agents_see_revenue}
            ),
        },
    )


@require_POST
@staff_page(permission=Permission.MANAGE_STAFF)
def change_role(request: HttpRequest, staff: Staff, membership_id: int) -> HttpResponse:
    member = _member(staff, membership_id)
    form = RoleForm(request.POST, prefix=f"m{member.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return redirect("dashboard:settings_staff")
    try:
        settings_services.change_staff_role(
            store=staff.store, membership_id=member.pk, role=form.cleaned_data["role"]
        )
    except Conflict:
        messages.error(
            request,
            _("%(name)s is the only owner. Make someone else owner first.")
            % {"name": member.user.get_username()},
        )
    else:
        messages.success(
            request,
            _("%(name)s is now %(role)s.")
            % {
                "name": member.user.get_username(),
                "role": StaffRole(form.cleaned_data["role"]).label,
            },
        )
    return redirect("dashboard:settings_staff")


@require_POST
@staff_page(permission=Permission.MANAGE_STAFF)
def remove_member(request: HttpRequest, staff: Staff, membership_id: int) -> HttpResponse:
    member = _member(staff, membership_id)
    try:
        settings_services.remove_staff_member(store=staff.store, membership_id=member.pk)
    except Conflict:
        messages.error(
            request,
            _("%(name)s is the only owner and cannot be removed. Make someone else owner first.")
            % {"name": member.user.get_username()},
        )
        return redirect("dashboard:settings_staff")
    if member.user_id == request.user.pk:
        return redirect("dashboard:overview")  # you no longer work on this store
    messages.success(
        request,
        _("%(name)s no longer has access to this store.") % {"name": member.user.get_username()},
    )
    return redirect("dashboard:settings_staff")


@require_POST
@staff_page(permission=Permission.MANAGE_STAFF)
def resend_invitation(request: HttpRequest, staff: Staff, membership_id: int) -> HttpResponse:
    member = _member(staff, membership_id)
    error = settings_services.send_invitation(
        membership=member,
        invited_by=_inviter(request),
        set_password_link=_set_password_link(request),
        sign_in_link=_sign_in_link(request),
    )
    if error:
        messages.warning(request, _("The email could not be sent (%(error)s).") % {"error": error})
    else:
        messages.success(
            request, _("Email sent to %(name)s.") % {"name": member.user.get_username()}
        )
    return redirect("dashboard:settings_staff")


@require_POST
@staff_page(permission=Permission.MANAGE_STAFF)
def revenue_visibility(request: HttpRequest, staff: Staff) -> HttpResponse:
    form = RevenueVisibilityForm(request.POST)
    form.is_valid()  # a missing checkbox is False: always valid
    settings_services.update_store_settings(
        store=staff.store, agents_see_revenue=bool(form.cleaned_data.get("agents_see_revenue"))
    )
    messages.success(request, _("Saved."))
    return redirect("dashboard:settings_staff")


urlpatterns = [
    path("settings/staff/", staff_list, name="settings_staff"),
    path("settings/staff/<int:membership_id>/role/", change_role, name="settings_staff_role"),
    path("settings/staff/<int:membership_id>/remove/", remove_member, name="settings_staff_remove"),
    path(
        "settings/staff/<int:membership_id>/resend/",
        resend_invitation,
        name="settings_staff_resend",
    ),
    path("settings/staff/revenue/", revenue_visibility, name="settings_staff_revenue"),
]
