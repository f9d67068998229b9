"""The overview: how the post-purchase experience is doing (placeholder until analytics lands)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from aftercare.dashboard.access import Staff, staff_page


@staff_page()
def overview(request: HttpRequest, staff: Staff) -> HttpResponse:
    return render(request, "dashboard/overview.html", {})


urlpatterns = [path("", overview, name="overview")]
