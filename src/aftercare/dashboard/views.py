"""The staff dashboard's first pages: the stores you work on and what the mirror holds.
(The full dashboard — overview charts, customer 360, settings — plugs in here.)"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from aftercare.dashboard.access import store_for_request
from aftercare.ingest import selectors as ingest_selectors
from aftercare.stores import selectors as store_selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    stores = list(store_selectors.stores_for_user(user_id=int(request.user.pk or 0)))
    if len(stores) == 1:
        return redirect("dashboard:store", store_slug=stores[0].slug)
    return render(request, "dashboard/home.html", {"stores": stores})


@login_required
def store_overview(request: HttpRequest, store_slug: str) -> HttpResponse:
    store, membership = store_for_request(request, store_slug=store_slug)
    return render(
        request,
        "dashboard/store.html",
        {
            "store": store,
            "membership": membership,
            "stores": store_selectors.stores_for_user(user_id=int(request.user.pk or 0)),
            "mirror": ingest_selectors.mirror_counts(store=store),
            "inbox": ingest_selectors.inbox_counts(store=store),
            "recent_events": ingest_selectors.recent_events(store=store, limit=15),
            "last_sync": ingest_selectors.last_sync(store=store),
        },
    )
