"""The WooCommerce connection: its state, the connect wizard (address + keys → check → webhooks
registered), "sync now" with live progress, and disconnecting.

Connecting calls the shop from the request, synchronously: a person is waiting for the verdict
on their keys, the calls are few (index, one order, the webhooks) and bounded by
AFTERCARE_WOO_HTTP_TIMEOUT with one retry (`stores.connection`). The full sync is not: it is a
job, and this page polls its progress with HTMX.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftercare.dashboard.access import Staff, staff_page
from aftercare.dashboard.forms.settings_connection import ConnectForm
from aftercare.dashboard.views.settings.tabs import settings_tabs
from aftercare.ingest import handlers as ingest_handlers
from aftercare.ingest import selectors as ingest_selectors
from aftercare.ingest.models import SyncRun, SyncStatus
from aftercare.stores import connection, settings_services
from aftercare.stores.errors import StoreErrorCode
from aftercare.stores.models import Store
from aftercare.stores.permissions import Permission
from aftercare.stores.woo.errors import WooError

SYNC_KIND = ingest_handlers.reconcile_store.kind
REPORT_KEY = "aftercare_woo_connect_report"

# What went wrong, as a heading, and what to check — next to the error's own explanation
# (WooError messages already name the host and the setting to change).
PROBLEMS: dict[str, tuple[Any, list[Any]]] = {
    StoreErrorCode.WOO_UNREACHABLE: (
        gettext_lazy("We could not reach your shop"),
        [
            gettext_lazy("Open the shop address in a browser: does the site load?"),
            gettext_lazy("Check http:// versus https:// and the spelling of the address."),
            gettext_lazy(
                "If the site only works inside your network, this server cannot reach it."
            ),
        ],
    ),
    StoreErrorCode.WOO_UNAUTHORIZED: (
        gettext_lazy("WooCommerce did not accept these keys"),
        [
            gettext_lazy(
                "In WooCommerce → Settings → Advanced → REST API, check that the key exists "
                "and is Read/Write."
            ),
            gettext_lazy(
                "Copy the key and the secret again; the secret is shown only once, so create "
                "a new key if it is lost."
            ),
            gettext_lazy("Use the shop address exactly as in WordPress → Settings → General."),
        ],
    ),
    StoreErrorCode.WOO_KEYS_READ_ONLY: (
        gettext_lazy("These keys are read-only"),
        [
            gettext_lazy(
                "Edit the key in WooCommerce → Settings → Advanced → REST API and set "
                "Permissions to Read/Write, then connect again."
            ),
            gettext_lazy(
                "Or connect without webhooks: changes then arrive with the periodic sync "
                "only (every few minutes instead of at once)."
            ),
        ],
    ),
    StoreErrorCode.WOO_NOT_WOOCOMMERCE: (
        gettext_lazy("This is not a WooCommerce shop"),
        [
            gettext_lazy("Use the address of the WordPress site itself, not a landing page."),
            gettext_lazy("Check that the WooCommerce plugin is installed and active."),
        ],
    ),
    StoreErrorCode.WOO_REST_DISABLED: (
        gettext_lazy("The WordPress REST API is switched off"),
        [
            gettext_lazy(
                'In WordPress → Settings → Permalinks, choose any setting except "Plain".'
            ),
            gettext_lazy(
                "Check security plugins (and your host's firewall) for a setting that blocks "
                "/wp-json/."
            ),
        ],
    ),
    StoreErrorCode.WOO_BAD_RESPONSE: (
        gettext_lazy("The shop answered with something we cannot read"),
        [
            gettext_lazy(
                "A maintenance mode, security plugin or caching proxy may be answering instead "
                "of WooCommerce; open /wp-json/wc/v3 on your shop to see what it shows."
            ),
        ],
    ),
    StoreErrorCode.WOO_SERVER_ERROR: (
        gettext_lazy("The shop is failing right now"),
        [
            gettext_lazy("Wait a few minutes and try again; the shop may be overloaded."),
            gettext_lazy("If it keeps failing, your host's error log says why."),
        ],
    ),
}


def _problem(exc: WooError) -> dict[str, Any]:
    title, steps = PROBLEMS.get(str(exc.code), (gettext_lazy("Connecting failed"), []))
    tls = "https" in str(exc).lower() and exc.code == StoreErrorCode.WOO_UNREACHABLE
    if tls:
        title = gettext_lazy("The shop's HTTPS certificate was not accepted")
        steps = [
            gettext_lazy(
                "The certificate may be expired, self-signed or issued for another name; "
                "renew it (most hosts offer free Let's Encrypt certificates)."
            ),
            gettext_lazy("Or connect with the http:// address if the shop has no certificate."),
        ]
    return {"code": str(exc.code), "title": title, "message": str(exc), "steps": steps}


def _sync_context(store: Store) -> dict[str, Any]:
    run: SyncRun | None = ingest_selectors.last_sync(store=store)
    job = settings_services.open_job(store=store, kind=SYNC_KIND)
    resources = []
    done_total, expected_total = 0, 0
    if run is not None:
        for name, state in run.checkpoint.items():
            if not isinstance(state, dict):
                continue
            done = int(state.get("items_done") or 0)
            total = state.get("total")
            counts = run.counts.get(name) or {}
            resources.append(
                {
                    "name": name,
                    "done": done,
                    "total": total,
                    "finished": bool(state.get("done")),
                    "counts": counts,
                }
            )
            done_total += done
            expected_total += int(total) if total is not None else done
    running = job is not None or (run is not None and run.status == SyncStatus.RUNNING)
    percent = round(100 * done_total / expected_total) if expected_total else 0
    return {
        "run": run,
        "job": job,
        "running": running,
        "resources": resources,
        "percent": min(percent, 100),
    }


@require_http_methods(["GET", "POST"])
@staff_page(permission=Permission.MANAGE_SETTINGS)
def connection_page(request: HttpRequest, staff: Staff) -> HttpResponse:
    store = staff.store
    state = settings_services.connection_state(store=store)
    problem: dict[str, Any] | None = None
    if request.method == "POST":
        form = ConnectForm(request.POST)
        without_webhooks = request.POST.get("without_webhooks") == "1"
        if form.is_valid():
            report: list[str] = []
            try:
                # Network I/O in the request, on purpose: see the module docstring.
                connection.connect_woocommerce(
                    store=store,
                    url=form.cleaned_data["url"],
                    consumer_key=form.cleaned_data["consumer_key"],
                    consumer_secret=form.cleaned_data["consumer_secret"],
                    register_webhooks=not without_webhooks,
                    report=report.append,
                )
            except WooError as exc:
                problem = _problem(exc)
                state = settings_services.connection_state(store=store)
            else:
                request.session[REPORT_KEY] = report
                messages.success(request, _("Your shop is connected."))
                return redirect("dashboard:settings_connection")
    else:
        initial = {"url": state.connection.url} if state.connection else {}
        form = ConnectForm(initial=initial)
    shop_url = state.connection.url if state.connection else ""
    public_problems = (
        connection.public_url_problems(delivery_url=state.delivery_url, shop_url=shop_url)
        if shop_url
        else []
    )
    context = {
        "tabs": settings_tabs(staff=staff, current="connection"),
        "state": state,
        "form": form,
        "problem": problem,
        "reconnect": request.GET.get("reconnect") == "1" or problem is not None,
        "report": request.session.pop(REPORT_KEY, []) if request.method == "GET" else [],
        "public_problems": public_problems,
        "inbox": ingest_selectors.inbox_counts(store=store),
        "mirror": ingest_selectors.mirror_counts(store=store),
        "webhook_topics": len(connection.WEBHOOK_TOPICS),
        **_sync_context(store),
    }
    return render(request, "dashboard/settings/connection.html", context)


@require_POST
@staff_page(permission=Permission.MANAGE_SETTINGS)
def sync_now(request: HttpRequest, staff: Staff) -> HttpResponse:
    store = staff.store
    if settings_services.connection_state(store=store).connection is None:
        messages.error(request, _("Connect the shop first."))
        return redirect("dashboard:settings_connection")
    # The reconcile job pulls what changed since the last complete sync, or everything the
    # first time; its dedupe key is the periodic reconcile's, so a click while one is queued
    # does not queue a second.
    ingest_handlers.reconcile_store.enqueue(store_id=store.pk, dedupe_key=f"reconcile:{store.pk}")
    if request.headers.get("HX-Request"):
        return render(request, "dashboard/settings/_sync_status.html", _sync_context(store))
    messages.info(request, _("Sync started. It runs in the background; you can leave this page."))
    return redirect("dashboard:settings_connection")


@require_GET
@staff_page(permission=Permission.MANAGE_SETTINGS)
def sync_status(request: HttpRequest, staff: Staff) -> HttpResponse:
    return render(request, "dashboard/settings/_sync_status.html", _sync_context(staff.store))


@require_POST
@staff_page(permission=Permission.MANAGE_SETTINGS)
def disconnect(request: HttpRequest, staff: Staff) -> HttpResponse:
    if request.POST.get("confirm") != "1":
        messages.error(request, _("Tick the box to confirm disconnecting."))
        return redirect("dashboard:settings_connection")
    problem = settings_services.disconnect_woocommerce(store=staff.store)
    if problem:
        messages.warning(
            request,
            _(
                "Disconnected. We could not remove our webhooks from the shop (%(problem)s); "
                "delete them in WooCommerce → Settings → Advanced → Webhooks."
            )
            % {"problem": problem},
        )
    else:
        messages.success(
            request,
            _("Disconnected. The shop's keys are forgotten; the data already synced stays."),
        )
    return redirect("dashboard:settings_connection")


urlpatterns = [
    path("settings/connection/", connection_page, name="settings_connection"),
    path("settings/connection/sync/", sync_now, name="settings_sync"),
    path("settings/connection/sync/status/", sync_status, name="settings_sync_status"),
    path("settings/connection/disconnect/", disconnect, name="settings_disconnect"),
]
