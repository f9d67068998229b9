"""Signing in and out, password reset by email, the store switcher and the staff language."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import path, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from aftercare.dashboard import access
from aftercare.dashboard.login_form import StaffLoginForm
from aftercare.stores import services as store_services


@require_POST
@login_required
def switch_store(request: HttpRequest) -> HttpResponse:
    if not access.switch_store(request, store_slug=request.POST.get("store", "")):
        return HttpResponseBadRequest("unknown store")
    return redirect("dashboard:overview")


@require_POST
@login_required
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    if language and language not in {code for code, _ in settings.LANGUAGES}:
        return HttpResponseBadRequest("unknown language")
    store_services.set_staff_language(user_id=int(request.user.pk or 0), language=language)
    if language:
        translation.activate(language)
    back = request.POST.get("next") or request.headers.get("referer") or ""
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = str(reverse_lazy("dashboard:overview"))
    return redirect(back)


_reset_done = reverse_lazy("dashboard:password_reset_done")
urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="dashboard/account/login.html",
            authentication_form=StaffLoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="dashboard/account/password_reset.html",
            email_template_name="dashboard/account/password_reset_email.txt",
            subject_template_name="dashboard/account/password_reset_subject.txt",
            success_url=_reset_done,
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="dashboard/account/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="dashboard/account/password_reset_confirm.html",
            success_url=reverse_lazy("dashboard:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="dashboard/account/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("switch-store/", switch_store, name="switch_store"),
    path("language/", set_language, name="set_language"),
]
