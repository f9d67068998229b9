"""Message templates: every key in every language the store writes in, shipped or customised,
and the editor — subject, preheader and body beside the variable reference, a live preview with
a real customer's data at desktop and phone widths, save, reset to the default, send a test.

    /dashboard/templates/                                  the list (shipped / customised)
    /dashboard/templates/<key>/<locale>/<channel>/         the editor; POST saves
    /dashboard/templates/<key>/<locale>/<channel>/preview/ POST the draft: the preview (HTMX)
    /dashboard/templates/<key>/<locale>/<channel>/test/    POST the draft: a test to me
    /dashboard/templates/<key>/<locale>/<channel>/reset/   POST: back to the shipped default
    /dashboard/templates/customers/?q=jane                 whom to preview with (HTMX)

Every staff member may look and preview; saving, resetting and sending a test need
`MANAGE_FLOWS` (owners and managers), like the flows that send these templates. What a valid
template is, and what a preview or a test contains, is `messaging.template_services` to
decide. The preview's HTML is shown only inside `<iframe sandbox="" srcdoc=…>` (no script, no
form, an opaque origin): it carries customer and product text. The customer to preview with
comes from a store-scoped selector: another store's customer is a 404.
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftercare.core.errors import InvalidInput, NotFound
from aftercare.customers import selectors as customer_selectors
from aftercare.customers.models import Customer
from aftercare.dashboard.access import Staff, staff_page
from aftercare.messaging import rendering, template_services, variables
from aftercare.messaging.models import ChannelKind
from aftercare.messaging.rendering import RenderedEmail, TemplateError
from aftercare.messaging.template_catalog import TemplateKey
from aftercare.messaging.template_sandbox import GLOBAL_NAMES
from aftercare.stores.permissions import Permission

# Changing templates (owners and managers; stores/permissions.py): they are what flows send.
MANAGE_TEMPLATES = Permission.MANAGE_FLOWS
SEARCH_RESULTS = 10
CHANNEL_LABELS: dict[str, Any] = {
    ChannelKind.EMAIL: pgettext_lazy("channel", "Email"),
    ChannelKind.SMS: gettext_lazy("SMS"),
}
LANGUAGE_LABELS: dict[str, Any] = {
    "en": gettext_lazy("English"),
    "ko": gettext_lazy("Korean"),
    "ja": gettext_lazy("Japanese"),
}
# The blocks a body may call (template_sandbox), as the reference shows them.
BLOCKS = (
    '{{ button(links.order_url, "…") }}',
    "{{ order_items() }}",
    "{{ product_grid(recommended_products) }}",
    "{{ coupon_box(coupon) }}",
    '{{ score_scale(links.survey_url, "…", "…") }}',
)


class TemplateForm(forms.Form):
    subject = forms.CharField(
        label=gettext_lazy("Subject"), required=False, max_length=template_services.SUBJECT_MAX
    )
    preheader = forms.CharField(
        label=gettext_lazy("Preheader"),
        required=False,
        max_length=template_services.SUBJECT_MAX,
        help_text=gettext_lazy("The grey line inbox apps show after the subject."),
    )
    body = forms.CharField(
        label=gettext_lazy("Body"),
        required=False,
        max_length=template_services.BODY_MAX,
        strip=False,
        widget=forms.Textarea,
        help_text=gettext_lazy(
            "Markdown with {{ variables }}. A variable with no value prints nothing."
        ),
    )


def _key_or_404(key: str, channel: str) -> TemplateKey:
    try:
        return template_services.template_key(key=key, channel=channel)
    except NotFound as missing:
        raise Http404(str(missing)) from missing


def _editable_or_404(staff: Staff, key: str, locale: str, channel: str) -> TemplateKey:
    """The template named by the URL, in a language the store writes in — else 404."""
    known = _key_or_404(key, channel)
    if locale not in template_services.editable_locales(store=staff.store):
        raise Http404("the store does not write in this language")
    return known


class Draft(TypedDict):
    subject: str
    preheader: str
    body: str


def _draft(request: HttpRequest) -> Draft:
    """The editor's unsaved subject, preheader and body, cut to their limits."""
    post = request.POST
    return Draft(
        subject=post.get("subject", "")[: template_services.SUBJECT_MAX],
        preheader=post.get("preheader", "")[: template_services.SUBJECT_MAX],
        body=post.get("body", "")[: template_services.BODY_MAX],
    )


def _language_label(code: str) -> Any:
    return LANGUAGE_LABELS.get(code, code)


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/forbidden.html", {"permission": MANAGE_TEMPLATES}, status=403)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _customer_from(staff: Staff, value: str | None) -> Customer | None:
    """The customer named by an id from the form, in this store only (else 404); "" or no
    value: none (the sample data)."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise Http404("no such customer")
    try:
        return customer_selectors.find_customer(store=staff.store, customer_id=int(value))
    except NotFound as missing:
        raise Http404(str(missing)) from missing


def reference() -> list[tuple[str, list[str]]]:
    """The variable names a template can use, grouped as the documentation groups them
    (docs/subsystems/messaging-templates.md), from the documented set itself."""
    groups: list[tuple[str, list[str]]] = []
    for name, value in variables.sample(locale="en").items():
        if isinstance(value, dict):
            keys = [f"{name}.{key}" for key in value]
            if name == "links":
                keys += [f"links.{key}" for key in variables.OPTIONAL_LINK_KEYS]
            groups.append((name, keys))
        elif isinstance(value, list):
            item = value[0] if value and isinstance(value[0], dict) else {}
            groups.append((name, [name, *(f"product.{key}" for key in item)]))
        if name == "order":
            items = value.get("items") if isinstance(value, dict) else None
            first = items[0] if isinstance(items, list) and items else {}
            groups.append(("order.items", [f"item.{key}" for key in first]))
    groups.append(("blocks", [b for b in BLOCKS if b.split("(")[0][3:] in GLOBAL_NAMES]))
    return groups


# --- the list ---------------------------------------------------------------------------------


@require_GET
@staff_page()
def template_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    locales = template_services.editable_locales(store=staff.store)
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for version in template_services.versions(store=staff.store):
        row = by_key.setdefault(
            (version.key.key, version.channel),
            {
                "key": version.key,
                "channel": version.channel,
                "channel_label": CHANNEL_LABELS.get(version.channel, version.channel),
                "versions": [],
            },
        )
        row["versions"].append(version)
    context = {
        "rows": list(by_key.values()),
        "template_languages": [(code, _language_label(code)) for code in locales],
        "can_manage": staff.can(MANAGE_TEMPLATES),
    }
    return render(request, "dashboard/templates/list.html", context)


# --- the editor -------------------------------------------------------------------------------


def _preview_context(
    staff: Staff,
    *,
    known: TemplateKey,
    locale: str,
    channel: str,
    customer: Customer | None,
    subject: str | None,
    preheader: str | None,
    body: str | None,
) -> dict[str, Any]:
    """What the preview panel shows: the rendering, or the error with its line; warnings."""
    context: dict[str, Any] = {"customer": customer, "channel": channel, "warnings": []}
    try:
        shown = template_services.preview(
            store=staff.store,
            key=known.key,
            locale=locale,
            channel=channel,
            customer=customer,
            subject=subject,
            preheader=preheader,
            body=body,
        )
    except TemplateError as error:
        context["error"] = str(error)
        return context
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    if isinstance(shown, RenderedEmail):
        context["email"] = shown
    else:
        context["sms"] = shown
        context["segments"] = rendering.sms_segments(shown)
    source = template_services.current(
        store=staff.store, key=known.key, locale=locale, channel=channel
    )
    try:
        context["warnings"] = rendering.unknown_variables(
            subject=source.subject if subject is None else subject,
            preheader=source.preheader if preheader is None else preheader,
            body=source.body if body is None else body,
        )
    except TemplateError:  # already reported by the rendering above; cannot happen twice
        context["warnings"] = []
    return context


def _editor(
    request: HttpRequest,
    staff: Staff,
    *,
    known: TemplateKey,
    locale: str,
    channel: str,
    form: TemplateForm | None = None,
    customer: Customer | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        source = template_services.current(
            store=staff.store, key=known.key, locale=locale, channel=channel
        )
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    if form is None:
        form = TemplateForm(
            initial={"subject": source.subject, "preheader": source.preheader, "body": source.body}
        )
    draft = form.data if form.is_bound else form.initial
    args = [known.key, locale, channel]
    context = {
        "known": known,
        "locale": locale,
        "language_label": _language_label(locale),
        "channel": channel,
        "channel_label": CHANNEL_LABELS.get(channel, channel),
        "source": source,
        "form": form,
        "customer": customer,
        "can_manage": staff.can(MANAGE_TEMPLATES),
        "reference": reference(),
        "click_id": uuid.uuid4().hex,
        "save_url": reverse("dashboard:template", args=args),
        "preview_url": reverse("dashboard:template_preview", args=args),
        "test_url": reverse("dashboard:template_test", args=args),
        "reset_url": reverse("dashboard:template_reset", args=args),
        "customers_url": reverse("dashboard:template_customers"),
        "other_languages": [
            (code, _language_label(code))
            for code in template_services.editable_locales(store=staff.store)
            if code != locale
        ],
        "preview": _preview_context(
            staff,
            known=known,
            locale=locale,
            channel=channel,
            customer=customer,
            subject=str(draft.get("subject", "")),
            preheader=str(draft.get("preheader", "")),
            body=str(draft.get("body", "")),
        ),
    }
    return render(request, "dashboard/templates/edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_page()
def template_edit(
    request: HttpRequest, staff: Staff, key: str, locale: str, channel: str
) -> HttpResponse:
    known = _editable_or_404(staff, key, locale, channel)
    if request.method == "GET":
        customer = (
            _customer_from(staff, request.GET["customer"])
            if "customer" in request.GET
            else template_services.default_customer(store=staff.store)
        )
        return _editor(request, staff, known=known, locale=locale, channel=channel,
                       customer=customer)  # fmt: skip
    if not staff.can(MANAGE_TEMPLATES):
        return _forbidden(request)
    form = TemplateForm(request.POST)
    customer = _customer_from(staff, request.POST.get("customer"))
    if form.is_valid():
        try:
            template_services.save_template(
                store=staff.store,
                key=known.key,
                locale=locale,
                channel=channel,
                subject=form.cleaned_data["subject"],
                preheader=form.cleaned_data["preheader"],
                body=form.cleaned_data["body"],
                staff_email=str(getattr(request.user, "email", "") or ""),
            )
        except TemplateError as error:
            form.add_error(None, _("Not saved: %(error)s") % {"error": error})
        except InvalidInput as invalid:
            form.add_error(None, _("Not saved: %(error)s") % {"error": invalid.message})
        else:
            messages.success(request, _("Saved. Messages written from now on use this version."))
            return redirect("dashboard:template", known.key, locale, channel)
    return _editor(request, staff, known=known, locale=locale, channel=channel, form=form,
                   customer=customer, status=400)  # fmt: skip


@require_POST
@staff_page()
def template_preview(
    request: HttpRequest, staff: Staff, key: str, locale: str, channel: str
) -> HttpResponse:
    known = _editable_or_404(staff, key, locale, channel)
    customer = _customer_from(staff, request.POST.get("customer"))
    context = _preview_context(
        staff,
        known=known,
        locale=locale,
        channel=channel,
        customer=customer,
        **_draft(request),
    )
    return render(request, "dashboard/templates/_preview.html", {"preview": context})


@require_POST
@staff_page()
def template_test(
    request: HttpRequest, staff: Staff, key: str, locale: str, channel: str
) -> HttpResponse:
    known = _editable_or_404(staff, key, locale, channel)
    if not staff.can(MANAGE_TEMPLATES):
        return _forbidden(request)
    customer = _customer_from(staff, request.POST.get("customer"))
    to_email = str(getattr(request.user, "email", "") or "")
    notice: tuple[str, str]
    try:
        result = template_services.send_test(
            store=staff.store,
            to_email=to_email,
            key=known.key,
            locale=locale,
            channel=channel,
            customer=customer,
            **_draft(request),
            click_id=request.POST.get("click_id", ""),
        )
    except TemplateError as error:
        notice = ("error", _("Not sent: %(error)s") % {"error": error})
    except InvalidInput as invalid:
        notice = ("error", _("Not sent: %(error)s") % {"error": invalid.message})
    else:
        if result.status == "queued":
            notice = ("success", _("A test is on its way to %(email)s.") % {"email": to_email})
        else:
            notice = ("error", _("Not sent: %(reason)s") % {"reason": result.reason})
    if _is_htmx(request):
        context = {"notice": notice, "click_id": uuid.uuid4().hex}
        return render(request, "dashboard/templates/_test_result.html", context)
    getattr(messages, notice[0])(request, notice[1])
    form = TemplateForm(request.POST)
    form.is_valid()
    return _editor(request, staff, known=known, locale=locale, channel=channel, form=form,
                   customer=customer)  # fmt: skip


@require_POST
@staff_page()
def template_reset(
    request: HttpRequest, staff: Staff, key: str, locale: str, channel: str
) -> HttpResponse:
    known = _editable_or_404(staff, key, locale, channel)
    if not staff.can(MANAGE_TEMPLATES):
        return _forbidden(request)
    if template_services.reset_template(
        store=staff.store, key=known.key, locale=locale, channel=channel
    ):
        messages.success(request, _("Back to the default template."))
    else:
        messages.info(request, _("This template was already the default."))
    return redirect("dashboard:template", known.key, locale, channel)


@require_GET
@staff_page()
def customer_search(request: HttpRequest, staff: Staff) -> HttpResponse:
    """The customers to preview with: those matching `q` (email or name), this store only."""
    query = request.GET.get("q", "").strip()[:254]
    current = _customer_from(staff, request.GET.get("customer"))
    found: list[Customer] = []
    if len(query) >= 2:
        matches = customer_selectors.customers_for_store(store=staff.store, search=query)
        if current is not None:
            matches = matches.exclude(pk=current.pk)
        found = list(matches[:SEARCH_RESULTS])
    context = {"customer": current, "results": found, "query": query}
    return render(request, "dashboard/templates/_customers.html", context)


urlpatterns = [
    path("templates/", template_list, name="templates"),
    path("templates/customers/", customer_search, name="template_customers"),
    path("templates/<slug:key>/<slug:locale>/<slug:channel>/", template_edit, name="template"),
    path(
        "templates/<slug:key>/<slug:locale>/<slug:channel>/preview/",
        template_preview,
        name="template_preview",
    ),
    path(
        "templates/<slug:key>/<slug:locale>/<slug:channel>/test/",
        template_test,
        name="template_test",
    ),
    path(
        "templates/<slug:key>/<slug:locale>/<slug:channel>/reset/",
        template_reset,
        name="template_reset",
    ),
]
