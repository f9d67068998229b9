"""Preferences (/c/<token>/preferences/) and unsubscribe (/c/<token>/unsubscribe/).

The preferences page: marketing per channel, then per topic (customers.topics, while email
marketing is on), the language of their messages, and "unsubscribe from all".

The unsubscribe URL is the one in `List-Unsubscribe` (RFC 8058): mail providers POST
`List-Unsubscribe=One-Click` to it with no cookie and no CSRF token, so it is csrf-exempt —
the signed token authenticates the request. A GET only shows a confirmation page: mail
scanners and link previews fetch links, and must not unsubscribe anyone."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt

from aftercare.customers import consent, topics
from aftercare.customers.consent import ConsentChannel
from aftercare.portal import language, masking, services
from aftercare.portal.forms import CHANNEL_LABELS, LANGUAGE_FIELD, PreferencesForm, topic_field
from aftercare.portal.page import portal_page, render_page
from aftercare.portal.selectors import PREFERENCES, PortalLink


@portal_page(purpose=PREFERENCES, methods=("GET", "HEAD", "POST"))
def preferences(request: HttpRequest, link: PortalLink) -> HttpResponse:
    customer, store = link.customer, link.store
    channels = consent.channels_for(customer=customer)
    current = {
        channel: consent.is_subscribed(
            store=store, state=consent.current_state(customer=customer, channel=channel)
        )
        for channel in channels
    }
    # Topics narrow email marketing down: shown only while they receive it.
    show_topics = current.get(ConsentChannel.EMAIL, False)
    languages = language.available(store=store)
    if request.method == "POST":
        form = PreferencesForm(
            request.POST, channels=channels, show_topics=show_topics, languages=languages
        )
        if form.is_valid():
            services.save_preferences(
                link=link,
                subscribed=form.subscribed(),
                unsubscribed_topics=form.unsubscribed_topics(),
                language=form.language(),
            )
            # The page answers in the language they just chose (when they chose one).
            query = urlencode({"lang": form.language() or request.LANGUAGE_CODE, "saved": "1"})
            return HttpResponseRedirect(f"{request.path}?{query}")
    else:
        initial: dict[str, object] = {str(c): v for c, v in current.items()}
        opted_out = set(customer.topic_opt_outs or [])
        initial |= {topic_field(key): key not in opted_out for key in topics.KEYS}
        initial[LANGUAGE_FIELD] = services.message_language(link=link)
        form = PreferencesForm(
            initial=initial, channels=channels, show_topics=show_topics, languages=languages
        )
    topic_rows = [
        {"field": form[topic_field(topic.key)], "label": topic.label, "help": topic.description}
        for topic in topics.TOPICS.values()
        if form.show_topics
    ]
    rows = [
        {
            "field": form[str(channel)],
            "label": CHANNEL_LABELS[channel],
            "address": masking.mask_email(customer.email)
            if channel is ConsentChannel.EMAIL
            else masking.mask_phone(customer.phone),
            "subscribed": current[channel],
        }
        for channel in channels
    ]
    return render_page(
        request,
        "portal/preferences.html",
        {
            "form": form,
            "rows": rows,
            "topic_rows": topic_rows,
            "language_field": form[LANGUAGE_FIELD] if form.has_language else None,
            "saved": request.GET.get("saved") == "1",
        },
        link=link,
    )


@csrf_exempt  # authenticated by the signed token; see the module docstring
@portal_page(purpose=PREFERENCES, methods=("GET", "HEAD", "POST"), expired_ok=True)
def unsubscribe(request: HttpRequest, link: PortalLink) -> HttpResponse:
    preferences_url = ""
    if not link.expired:
        preferences_url = reverse("portal:preferences", kwargs={"token": link.token})
    context = {"preferences_url": preferences_url}
    if request.method != "POST":
        return render_page(request, "portal/unsubscribe.html", context, link=link)
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    if not one_click and request.POST.get("confirm") != "1":
        return render_page(request, "portal/unsubscribe.html", context, link=link, status=400)
    source = services.ONE_CLICK_SOURCE if one_click else services.UNSUBSCRIBE_PAGE_SOURCE
    services.unsubscribe(link=link, source=source)
    return render_page(request, "portal/unsubscribed.html", context, link=link)


urlpatterns = [
    path("<str:token>/preferences/", preferences, name="preferences"),
    path("<str:token>/unsubscribe/", unsubscribe, name="unsubscribe"),
]
