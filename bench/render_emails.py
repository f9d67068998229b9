"""Microseconds per rendered email: subject, HTML part and text part of a typical order mail.

    .venv/bin/python bench/render_emails.py                 # ~20 s
    .venv/bin/python bench/render_emails.py --emails 20000 --locales en,ko,ja

The mail: the shipped thank-you template (order items with five lines, a button) plus a grid of
three recommended products, for a different customer each time (names, order numbers, items
and prices differ), with click tracking on (an HMAC-signed redirect URL per link, as the sender
makes them) and an open pixel — what `rendering.render_email` does per message in the sender.

Figures are CPU time of the process (the machine is shared with other work). Printed: steady
state (the store's template compiled and its Markdown parsed once, then one
Jinja render and one substitution pass per message), the first render of a template (compile +
parse), every shipped email template, and for the record the Markdown parse alone with mistune
(what we use) and markdown-it-py (when installed). No database, no network.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercare.settings")

import django

django.setup()

from aftercare.messaging import (  # noqa: E402 - after django.setup()
    markdown_email,
    rendering,
    template_catalog,
    template_sandbox,
    variables,
)
from aftercare.messaging.rendering import Brand, TemplateSource  # noqa: E402

BRAND = Brand(
    store_name="Acme Outfitters",
    color="#0f766e",
    logo_url="https://shop.example/logo.png",
    footer_lines=("12 Harbour St, Portsmouth",),
)
SECRET = b"bench-tracking-secret"


def tracker(message_id: int) -> Any:
    def wrap(url: str) -> str:
        signature = hmac.new(SECRET, f"{message_id}:{url}".encode(), hashlib.sha256).hexdigest()
        return f"https://aftercare.example/t/c/{message_id}/{signature[:20]}?u={url}"

    return wrap


def customers(locale: str, count: int) -> list[dict[str, Any]]:
    """`count` distinct variable sets: 5 order lines, 3 recommendations each."""
    people = ["Ann", "Bob", "Chloé", "Dmitri", "Eun-ji", "Fatima", "Gus", "Hana", ""]
    sets = []
    for i in range(count):
        values = variables.sample(locale=locale, items=5)
        values["customer"]["first_name"] = people[i % len(people)]
        values["customer"]["greeting_name"] = people[i % len(people)] or "there"
        values["order"]["number"] = str(10_000 + i)
        for j, item in enumerate(values["order"]["items"]):
            item["name"] = f"{item['name']} #{(i + j) % 37}"
        values["links"]["order_url"] = f"https://aftercare.example/c/tok{i}/order"
        values["links"]["unsubscribe_url"] = f"https://aftercare.example/c/tok{i}/unsubscribe"
        values["links"]["preferences_url"] = f"https://aftercare.example/c/tok{i}/preferences"
        sets.append(values)
    return sets


def order_mail(locale: str) -> TemplateSource:
    shipped = template_catalog.shipped(key="thank-you", locale=locale)
    assert shipped is not None
    body = shipped.body + "\n{{ product_grid(recommended_products) }}\n"
    return replace(shipped, body=body, origin="store")


def per_email_us(source: TemplateSource, sets: list[dict[str, Any]], *, marketing: bool) -> float:
    """CPU time of this process per email (the machine is shared: wall time would count the
    other processes' turns too)."""
    started = time.process_time()
    for i, values in enumerate(sets):
        rendering.render_email(
            source=source,
            variables=values,
            brand=BRAND,
            marketing=marketing,
            link_wrapper=tracker(i),
            open_pixel_url=f"https://aftercare.example/t/o/{i}.gif",
        )
    return (time.process_time() - started) / len(sets) * 1e6


def cold_us(source: TemplateSource, values: dict[str, Any], rounds: int = 30) -> float:
    """First render of a template nobody rendered yet (a fresh body each round)."""
    timings = []
    for n in range(rounds):
        fresh = replace(source, body=source.body + f"\n<!-- {time.time_ns()} {n} -->\n")
        started = time.process_time()
        rendering.render_email(source=fresh, variables=values, brand=BRAND, marketing=False)
        timings.append(time.process_time() - started)
    return statistics.median(timings) * 1e6


def markdown_parse_us(markdown: str, rounds: int = 2000) -> dict[str, float]:
    results: dict[str, float] = {}
    started = time.process_time()
    for _ in range(rounds):
        markdown_email.compile_body(markdown)
    results["mistune 3 (AST + our HTML and text renderers)"] = (
        (time.process_time() - started) / rounds * 1e6
    )
    import mistune

    plain = mistune.create_markdown(escape=True, hard_wrap=True, plugins=["strikethrough", "url"])
    started = time.process_time()
    for _ in range(rounds):
        plain(markdown)
    results["mistune 3 (its own HTML renderer)"] = (time.process_time() - started) / rounds * 1e6
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return results
    parser = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough")
    started = time.process_time()
    for _ in range(rounds):
        parser.render(markdown)
    results["markdown-it-py (its own HTML renderer)"] = (
        (time.process_time() - started) / rounds * 1e6
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=5000, help="emails per measurement")
    parser.add_argument("--locales", default="en,ko,ja")
    args = parser.parse_args()

    print(f"Python {sys.version.split()[0]}, {args.emails} distinct customers per run\n")
    print("Typical order mail (thank-you, 5 items, 3 recommendations, tracking on):")
    for locale in args.locales.split(","):
        source = order_mail(locale)
        sets = customers(locale, args.emails)
        per_email_us(source, sets[:200], marketing=False)  # warm-up: compile, parse, caches
        runs = [per_email_us(source, sets, marketing=False) for _ in range(3)]
        sample = rendering.render_email(
            source=source, variables=sets[0], brand=BRAND, marketing=False, link_wrapper=tracker(0)
        )
        runs_shown = ", ".join(f"{r:.1f}" for r in runs)
        print(
            f"  {locale}: {min(runs):7.1f} µs/email (best of 3; runs {runs_shown})"
            f"  = {1e6 / min(runs):,.0f} emails/s on one core;"
            f" HTML {len(sample.html.encode()):,} B, text {len(sample.text.encode()):,} B"
        )
        cold = cold_us(source, sets[0])
        print(f"      first render of a new template (compile + parse): {cold:,.0f} µs")

    print("\nEvery shipped email template (en, 1,000 customers each, tracking on):")
    sets = customers("en", 1000)
    for key in template_catalog.template_keys():
        shipped = template_catalog.shipped(key=key.key, locale="en")
        assert shipped is not None
        per_email_us(shipped, sets[:50], marketing=key.marketing)
        micros = per_email_us(shipped, sets, marketing=key.marketing)
        print(f"  {key.key:22} {micros:7.1f} µs/email")

    text, _ = template_sandbox.render_tokenized(order_mail("en").body, customers("en", 1)[0])
    print(f"\nMarkdown parse of that mail's body ({len(text):,} chars), per call — paid once per")
    print("template shape thanks to the cache, listed for the choice of library:")
    for name, micros in markdown_parse_us(text).items():
        print(f"  {name:52} {micros:7.1f} µs")


if __name__ == "__main__":
    main()
