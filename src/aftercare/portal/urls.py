"""Customer pages, mounted at /c/ (see aftercare.urls). Every page is reached by a signed link
(`aftercare.core.signed_links`); the catch-all answers any other address with the neutral
"not valid" page, with the same no-index, same-origin referrer headers."""

from aftercare.portal.views import links, order, preferences

app_name = "portal"
urlpatterns = [*preferences.urlpatterns, *order.urlpatterns, *links.urlpatterns]
