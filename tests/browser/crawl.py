"""Breadth-first walk over the dashboard as a signed-in user sees it: every same-origin
/dashboard/ link reachable from a start page (logout, downloads and exports left out)."""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urlsplit

from tests.browser.conftest import Tab

SKIP_PATH = re.compile(
    r"/(logout|log-out|export|exports|download|downloads)(/|$)|\.(csv|json|xlsx|zip|pdf)$"
)
MAX_PAGES = 60
MAX_VARIANTS_PER_PATH = 3  # ?page=2, ?sort=… — a few, not every combination

LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => ({
    href: a.href, download: a.hasAttribute('download'), raw: a.getAttribute('href') || ''
}))"""
FORMS_JS = """() => Array.from(document.forms).map(f => ({
    method: (f.getAttribute('method') || 'get').toLowerCase(),
    // not f.action: a field named "action" shadows it (DOM clobbering)
    action: new URL(f.getAttribute('action') || '', document.baseURI).href,
    hasToken: !!f.querySelector('input[name=csrfmiddlewaretoken]'),
    fields: Array.from(new FormData(f).entries())
        .filter(([k, v]) => typeof v === 'string' && k !== 'csrfmiddlewaretoken'),
}))"""


@dataclass
class PostForm:
    page: str
    action: str
    fields: list[tuple[str, str]]


@dataclass
class Crawl:
    visited: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    post_forms: list[PostForm] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)


def crawl(
    tab: Tab,
    *,
    start: str,
    on_page: Callable[[Tab, str], None],
    max_pages: int = MAX_PAGES,
) -> Crawl:
    """Visit pages breadth-first from `start`, calling `on_page(tab, url)` on each."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(tab.url(start)))
    queue: deque[str] = deque([tab.url(start)])
    queued = {tab.url(start)}
    variants: Counter[str] = Counter()
    result = Crawl()
    while queue and len(result.visited) < max_pages:
        url = queue.popleft()
        parts = urlsplit(url)
        response = tab.visit(url, parts.path + (f"-{parts.query}" if parts.query else ""))
        result.visited.append(url)
        result.statuses[url] = response.status
        result.texts[url] = tab.page.locator("body").inner_text()
        on_page(tab, url)
        for form in tab.page.evaluate(FORMS_JS):
            if form["method"] == "post":
                result.post_forms.append(
                    PostForm(page=url, action=form["action"], fields=_pairs(form["fields"]))
                )
        for link in tab.page.evaluate(LINKS_JS):
            target, _ = urldefrag(link["href"])
            parts = urlsplit(target)
            if (
                link["download"]
                or not target.startswith(origin + "/dashboard/")
                or SKIP_PATH.search(parts.path)
                or target in queued
            ):
                continue
            if parts.query:
                if variants[parts.path] >= MAX_VARIANTS_PER_PATH:
                    continue
                variants[parts.path] += 1
            queued.add(target)
            queue.append(target)
    return result


def _pairs(raw: list[Any]) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in raw]
