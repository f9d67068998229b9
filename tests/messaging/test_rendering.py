"""Rendering: every shipped template in every language, escaping, links, the sandbox, errors.

Pure functions: no database. Variables come from `variables.sample` (the documented set with
made-up values) or are written out by hand."""

from __future__ import annotations

import copy
import html
import re
from typing import Any
from urllib.parse import quote

import pytest

from aftercare.messaging import rendering, template_catalog, variables
from aftercare.messaging.rendering import Brand, RenderedEmail, TemplateError, TemplateSource

BRAND = Brand(store_name="Acme", color="#1d5fd1")
TRACKER = "https://track.example/c?u="
LOCALES = ("en", "ko", "ja")
ALL_KEYS = [key.key for key in template_catalog.template_keys()]
MARKETING = {key.key: key.marketing for key in template_catalog.template_keys()}
SENTINELS = re.compile("[\ue000-\ue00f]")
HREF = re.compile(r'href="([^"]*)"')
TEXT_URL = re.compile(r"https?://[^\s]+|[^\s:@]+@[^\s@]+\.[a-z]+")


def source(
    body: str, *, subject: str = "Hello", locale: str = "en", preheader: str = ""
) -> TemplateSource:
    return TemplateSource(
        key="test",
        locale=locale,
        channel="email",
        subject=subject,
        preheader=preheader,
        body=body,
        origin="store",
    )


def render(
    body: str,
    values: dict[str, Any] | None = None,
    *,
    subject: str = "Hello",
    locale: str = "en",
    marketing: bool = False,
    **kwargs: Any,
) -> RenderedEmail:
    return rendering.render_email(
        source=source(body, subject=subject, locale=locale),
        variables=values if values is not None else {},
        brand=BRAND,
        marketing=marketing,
        **kwargs,
    )


def track(url: str) -> str:
    return TRACKER + quote(url, safe="")


BODY_START = 'font-size:16px;line-height:1.6;color:#17202b;">\n'
BODY_END = '</td></tr>\n</table>\n<table role="presentation" width="100%" cellpadding="0" '


def body_of(email_html: str) -> str:
    """The body cell only (not the frame, not the footer)."""
    start = email_html.index(BODY_START) + len(BODY_START)
    return email_html[start : email_html.index(BODY_END, start)]


def sample(locale: str = "en", **changes: Any) -> dict[str, Any]:
    values = variables.sample(locale=locale, items=3)
    for path, value in changes.items():
        section, _, key = path.partition("__")
        values[section][key] = value
    return values


# --- the shipped templates ------------------------------------------------------------------


def test_every_key_is_shipped_in_every_language() -> None:
    assert len(ALL_KEYS) == 15
    for key in ALL_KEYS:
        for locale in LOCALES:
            assert template_catalog.shipped(key=key, locale=locale) is not None, (key, locale)
    for key in ("thank-you", "order-shipped", "delay-notice"):
        for locale in LOCALES:
            assert template_catalog.shipped(key=key, locale=locale, channel="sms") is not None


def _empty_set(key: str) -> dict[str, Any]:
    # Marketing mail cannot go out without its unsubscribe link: the only thing it needs.
    return {"links": {"unsubscribe_url": "https://shop.example/u"}} if MARKETING[key] else {}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_shipped_email_renders_with_full_and_empty_variables(key: str, locale: str) -> None:
    template = template_catalog.shipped(key=key, locale=locale)
    assert template is not None
    for values in (sample(locale), _empty_set(key)):
        email = rendering.render_email(
            source=template, variables=values, brand=BRAND, marketing=MARKETING[key]
        )
        for part in (email.subject, email.html, email.text):
            assert "None" not in part
            assert "{{" not in part and "{%" not in part
            assert not SENTINELS.search(part)
        assert "\n" not in email.subject
        assert f'<html lang="{locale}"' in email.html
        assert email.text.strip()
    full = rendering.render_email(
        source=template, variables=sample(locale), brand=BRAND, marketing=MARKETING[key]
    )
    assert "Acme" in full.subject + full.text
    assert "1042" in full.subject + full.text or key not in {"thank-you", "order-shipped"}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key", ["thank-you", "order-shipped", "delay-notice"])
def test_every_shipped_sms_renders(key: str, locale: str) -> None:
    template = template_catalog.shipped(key=key, locale=locale, channel="sms")
    assert template is not None
    text = rendering.render_sms(source=template, variables=sample(locale))
    assert "#1042" in text
    assert "https://shop.example/c/sample/order" in text
    assert "None" not in text and "{{" not in text and "*" not in text
    assert rendering.render_sms(source=template, variables={}).strip()
    # Short enough to be worth sending as a text: at most three segments even in UCS-2.
    assert rendering.sms_segments(text) <= 3


@pytest.mark.parametrize("key", ALL_KEYS)
def test_shipped_templates_pass_the_editor_check(key: str) -> None:
    for locale in LOCALES:
        template = template_catalog.shipped(key=key, locale=locale)
        assert template is not None
        rendering.check_template(
            subject=template.subject,
            preheader=template.preheader,
            body=template.body,
            locale=locale,
        )


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ("Subtotal", "Total", "Unsubscribe", "Email preferences")),
        ("ko", ("소계", "합계", "수신 거부", "수신 설정", "고객님께 보내 드리는 메일입니다")),
        ("ja", ("小計", "合計", "配信停止", "配信設定", "をご利用のお客様")),
    ],
)
def test_frame_and_blocks_speak_the_language(locale: str, words: tuple[str, ...]) -> None:
    email = render("{{ order_items() }}", sample(locale), locale=locale, marketing=True)
    for word in words:
        assert word in email.html
        assert word in email.text


# --- greeting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "Hi there,"), ("ko", "고객님, 안녕하세요."), ("ja", "お客様")],
)
def test_greeting_falls_back_to_a_polite_stand_in(locale: str, expected: str) -> None:
    template = template_catalog.shipped(key="thank-you", locale=locale)
    assert template is not None
    _, greeting = variables.names(first_name="", last_name="", locale=locale)
    values = sample(locale, customer__greeting_name=greeting)
    email = rendering.render_email(source=template, variables=values, brand=BRAND, marketing=False)
    assert email.text.startswith(expected)


# --- escaping -------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    "**bold** _it_ `code`",
    "{{ 7 * 7 }} {% if 1 %}x{% endif %}",
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "# Heading\n\n- item\n\n<b>hi</b>",
    'Tom & Jerry\'s "shop"',
    "\ue0000\ue001 \ue0020\ue003 \ue0060\ue007",  # our own token characters
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_customer_name_is_inert_in_html_and_markdown(name: str) -> None:
    values = sample(customer__first_name=name)
    body = (
        "Hi **{{ customer.first_name }}**, [see]({{ links.order_url }})\n\n"
        "{{ customer.first_name }}\n\n{{ button(links.order_url, customer.first_name) }}"
    )
    email = render(body, values, subject="Hi {{ customer.first_name }}")
    main = body_of(email.html)
    assert "<script" not in main and "<img src=x" not in main and "<b>" not in main
    assert 'href="javascript' not in main
    assert "<em>" not in main and "<code" not in main and "<h1" not in main and "<li" not in main
    assert main.count("<strong>") == 1  # the template's own, nothing from the name
    assert "49" not in main
    assert html.escape(name.split("\n", maxsplit=1)[0]) in main
    # The text part shows the name exactly as written, markers and all.
    assert name.split("\n", maxsplit=1)[0] in email.text
    assert email.subject == "Hi " + " ".join(name.split())


def test_values_in_links_cannot_break_out_of_the_attribute() -> None:
    values = sample(links__order_url='https://shop.example/o?a=1&b="x" onmouseover="alert(1)')
    email = render("[Order]({{ links.order_url }}) {{ links.order_url }}", values)
    assert 'onmouseover="' not in email.html
    assert "%22" in email.html


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "/relative", ""]
)
def test_links_to_anything_but_the_web_mail_or_phone_are_dropped(url: str) -> None:
    values = sample(links__order_url=url)
    email = render(
        "[Order]({{ links.order_url }}) {{ button(links.order_url, 'Go') }} [Lit](javascript:x)",
        values,
    )
    main = body_of(email.html)
    assert "<a" not in main
    assert "Order" in main and "Lit" in main
    assert "javascript" not in email.text.lower() or url.lower().startswith("javascript")


def test_raw_html_in_a_template_is_shown_not_run() -> None:
    email = render("<div onclick=x>hi</div>\n\nA <b>bold</b> claim <!-- c -->")
    main = body_of(email.html)
    assert "<div onclick" not in main and "<b>" not in main and "<!--" not in main
    assert "&lt;div onclick=x&gt;hi&lt;/div&gt;" in main
    assert "&lt;b&gt;bold&lt;/b&gt;" in main


def test_template_markdown_renders_with_inline_styles() -> None:
    email = render(
        "# Title\n\nSome **bold**, *it* and ~~old~~.\n\n- one\n- two\n\n1. a\n2. b\n\n"
        "> quote\n\n---"
    )
    main = body_of(email.html)
    assert '<h1 style="' in main and "<strong>bold</strong>" in main and "<em>it</em>" in main
    assert "<del>old</del>" in main
    assert '<ul style="' in main and '<ol style="' in main and main.count('<li style="') == 4
    assert '<hr style="' in main
    assert "<style" not in main and "class=" not in main
    text = email.text
    assert "Title" in text and "Some bold, it and old." in text
    assert "- one\n- two" in text and "1. a\n2. b" in text and "> quote" in text
    assert "*" not in text.split("-- ")[0] and "#" not in text


def test_line_breaks_in_the_editor_stay_line_breaks() -> None:
    email = render("Thanks,\nThe Acme team")
    assert "Thanks,<br>\nThe Acme team" in email.html
    assert "Thanks,\nThe Acme team" in email.text


def test_multi_line_values_keep_their_lines_and_email_addresses_become_mailto() -> None:
    values = {
        "notification": {"message": "Line one\nLine <two>"},
        "customer": {"email": "a@b.example"},
    }
    email = render("{{ notification.message }}\n\n{{ customer.email }}", values)
    assert "Line one<br>\nLine &lt;two&gt;" in email.html
    assert 'href="mailto:a@b.example"' in email.html
    assert "a@b.example" in email.text


def test_captured_template_text_keeps_its_markdown_but_values_stay_inert() -> None:
    values = sample(customer__first_name="**Ann**")
    body = (
        "{% macro strong(x) %}**{{ x }}**{% endmacro %}{{ strong(customer.first_name) }}\n\n"
        "{% set sign %}*The {{ store.name }} team*{% endset %}{{ sign }}"
    )
    main = body_of(render(body, values).html)
    assert "<strong>**Ann**</strong>" in main
    assert "<em>The Acme team</em>" in main


# --- money and dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "amount"), [("ko", "₩32,000"), ("ja", "￥3,200"), ("en", "$24.50")]
)
def test_won_and_yen_have_no_decimals(locale: str, amount: str) -> None:
    template = template_catalog.shipped(key="thank-you", locale=locale)
    assert template is not None
    email = rendering.render_email(
        source=template, variables=sample(locale), brand=BRAND, marketing=False
    )
    assert amount in email.html and amount in email.text
    if locale != "en":
        assert not re.search(r"[₩￥][0-9,]+\.[0-9]", email.html + email.text)


# --- links ----------------------------------------------------------------------------------


def _links(email: RenderedEmail) -> tuple[set[str], set[str]]:
    """Link targets of each part; "mailto:" dropped (the text part shows the bare address)."""
    in_html = {html.unescape(href).removeprefix("mailto:") for href in HREF.findall(email.html)}
    in_text = {url.rstrip(".,)。") for url in TEXT_URL.findall(email.text)}
    return in_html, in_text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key", ALL_KEYS)
def test_the_text_part_has_the_same_links_as_the_html(key: str, locale: str) -> None:
    template = template_catalog.shipped(key=key, locale=locale)
    assert template is not None
    for wrapper in (None, track):
        email = rendering.render_email(
            source=template,
            variables=sample(locale),
            brand=BRAND,
            marketing=MARKETING[key],
            link_wrapper=wrapper,
        )
        in_html, in_text = _links(email)
        assert in_html == in_text
        assert in_html or key == "staff-notification"


def test_link_wrapper_gets_every_web_link_but_unsubscribe_preferences_and_mailto() -> None:
    values = sample()
    values["customer"]["email"] = "ann@example.com"
    body = (
        "[Order]({{ links.order_url }}) {{ links.shop_url }} [Write](mailto:help@shop.example) "
        "[Prefs]({{ links.preferences_url }}) {{ customer.email }} https://literal.example/x\n\n"
        "{{ button(links.survey_url, 'Survey') }}\n\n{{ product_grid(recommended_products) }}\n\n"
        "{{ score_scale(links.survey_url) }}\n\n![logo](https://shop.example/logo.png)"
    )
    seen: list[str] = []

    def wrapper(url: str) -> str:
        seen.append(url)
        return track(url)

    email = render(
        body,
        values,
        marketing=True,
        link_wrapper=wrapper,
        open_pixel_url="https://track.example/o.gif",
    )
    unwrapped = {values["links"]["unsubscribe_url"], values["links"]["preferences_url"]}
    in_html, in_text = _links(email)
    for url in in_html | in_text:
        assert url.startswith(TRACKER) or "@" in url or url in unwrapped, url
    assert 'href="mailto:help@shop.example"' in email.html
    assert 'href="mailto:ann@example.com"' in email.html
    assert (
        values["links"]["unsubscribe_url"] in in_html
        and values["links"]["unsubscribe_url"] in in_text
    )
    # Images are not clicks: not wrapped.
    assert 'src="https://shop.example/logo.png"' in email.html
    assert 'src="https://shop.example/images/10.jpg"' in email.html
    # Each distinct target is wrapped once per message (html and text share it).
    assert len(seen) == len(set(seen))
    assert "https://literal.example/x" in seen and values["links"]["order_url"] in seen
    assert len([u for u in seen if "score=" in u]) == 11
    # The open pixel is the last thing in the body.
    assert email.html.rstrip().endswith(
        '<img src="https://track.example/o.gif" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px;overflow:hidden;">\n</body>\n</html>'
    )


def test_marketing_mail_has_its_unsubscribe_footer_and_transactional_none() -> None:
    values = sample()
    marketing = render("Hi", values, marketing=True)
    assert f'href="{values["links"]["unsubscribe_url"]}"' in marketing.html
    assert f"Unsubscribe: {values['links']['unsubscribe_url']}" in marketing.text
    transactional = render("Hi", values, marketing=False)
    assert "Unsubscribe" not in transactional.html + transactional.text
    with pytest.raises(ValueError, match="unsubscribe_url"):
        render("Hi", {}, marketing=True)


# --- the layout -----------------------------------------------------------------------------


def test_layout_is_a_responsive_branded_table() -> None:
    brand = Brand(
        store_name="Acme & Co",
        color="#ffdd00",
        logo_url="https://shop.example/logo.png",
        footer_lines=("1 Main St, Springfield",),
    )
    email = rendering.render_email(
        source=source("Hi", preheader="Your order {{ order.number }} <3", locale="ja"),
        variables=sample("ja"),
        brand=brand,
        marketing=False,
    )
    page = email.html
    assert page.startswith("<!doctype html>") and '<html lang="ja"' in page
    assert "max-width:600px" in page and "@media only screen and (max-width:620px)" in page
    assert "<!--[if mso]>" in page
    assert "background:#ffdd00" in page
    assert "color:#000000" in page  # black text on a light brand colour
    assert '<img src="https://shop.example/logo.png" alt="Acme &amp; Co"' in page
    assert "Your order 1042 &lt;3" in page and "display:none" in page
    assert "1 Main St, Springfield" in page and "1 Main St, Springfield" in email.text
    assert "Hiragino" in page


def test_korean_breaks_lines_between_words_japanese_anywhere() -> None:
    korean = rendering.render_email(
        source=source("안녕하세요", locale="ko"), variables={}, brand=BRAND, marketing=False
    )
    japanese = rendering.render_email(
        source=source("こんにちは", locale="ja"), variables={}, brand=BRAND, marketing=False
    )
    assert "word-break:keep-all" in korean.html
    assert "word-break" not in japanese.html


def test_a_hostile_brand_colour_falls_back_to_the_default() -> None:
    brand = Brand(store_name="Acme", color="red;}</style><script>x</script>")
    email = rendering.render_email(source=source("Hi"), variables={}, brand=brand, marketing=False)
    assert "<script>" not in email.html and "background:#1d5fd1" in email.html


def test_a_block_alone_in_a_paragraph_is_not_wrapped_in_p() -> None:
    main = body_of(render("Before\n\n{{ button('https://shop.example', 'Go') }}\n\nAfter").html)
    assert "<p" not in main.split("<table", 1)[1].split("</table>", 1)[0]
    assert not re.search(r"<p[^>]*>\s*<table", main)
    assert re.search(r"<p[^>]*>Before</p>", main) and re.search(r"<p[^>]*>After</p>", main)


def test_blocks_without_data_render_nothing() -> None:
    email = render(
        "{{ button(links.order_url, 'Go') }}{{ order_items() }}{{ product_grid() }}"
        "{{ coupon_box() }}{{ score_scale(links.survey_url) }}"
    )
    assert "<table" not in body_of(email.html)
    assert email.text.split("-- ")[0].strip() == ""


def test_coupon_box_shows_code_value_and_expiry() -> None:
    email = render("{{ coupon_box(coupon) }}", sample("ko"), locale="ko")
    assert "THANKS-7F3K" in email.html and "10% 할인" in email.html
    assert "2026년 3월 31일까지 사용 가능" in email.html
    assert "쿠폰 코드: THANKS-7F3K (10% 할인)" in email.text


# --- the sandbox and errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ customer.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ button.__globals__ }}",
        "{{ order_items.__wrapped__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ customer.keys() }}{{ customer.items }}",
        "{{ ''.format.__self__ }}",
        "{{ '{0.__class__}'.format(1) }}",
        "{{ order['items'].append(1) }}{{ customer.update({'email': 'x'}) }}",
    ],
)
def test_the_sandbox_leaks_nothing(expression: str) -> None:
    values = sample()
    before = copy.deepcopy(values)
    try:
        email = render(f"x{expression}y", values)
    except TemplateError:
        return
    finally:
        assert values == before  # and changes nothing
    main = body_of(email.html)
    assert "xy" in main, main
    assert "class" not in main and "function" not in main and "built-in" not in main


@pytest.mark.parametrize(
    "expression",
    [
        "{% for i in range(100000) %}{% endfor %}",
        "{{ 'x' * 100000000 }}",
        "{{ [1] * 100000000 }}",
        "{{ 10 ** 100000 }}",
        "{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}",  # past the output cap
        "{% for i in range(1000) %}{% for j in range(1000) %}xx{% endfor %}{% endfor %}",
        "{% for i in range(40) %}{% for j in range(40) %}{% endfor %}{% endfor %}",  # 1,640
    ],
)
def test_the_sandbox_refuses_escapes_and_runaways(expression: str) -> None:
    values = sample()
    before = copy.deepcopy(values)
    with pytest.raises(TemplateError) as error:
        render(expression, values)
    assert error.value.field == "body"
    assert values == before


def test_unknown_variables_render_blank_and_never_raise() -> None:
    email = render(
        "[{{ nope }}|{{ nope.deep.er }}|{{ nope() }}|{{ nope + 1 }}|{{ order.total_cents * 2 }}]"
        "{% if nope > 3 %}big{% endif %}{% for x in nope %}loop{% endfor %}"
        "{{ customer.first_name|upper }}{% for i in range(3) %}{{ i }}{% endfor %}",
        {"order": {}, "customer": {}},
    )
    assert "[||||]" in email.text and "]012" in email.text
    assert "big" not in email.text and "loop" not in email.text


def test_a_template_that_does_not_compile_names_the_line() -> None:
    with pytest.raises(TemplateError) as error:
        rendering.check_template(subject="Hi", body="Hello\n\n{% if order.number %}\nOrder\n")
    assert error.value.field == "body"
    assert error.value.line == 4
    assert "Body, line 4:" in str(error.value) and "endif" in str(error.value)

    with pytest.raises(TemplateError) as error:
        rendering.check_template(subject="Hi {{ customer.first_name", body="ok")
    assert error.value.field == "subject" and error.value.line == 1

    with pytest.raises(TemplateError) as error:
        rendering.check_template(subject="Hi", body="ok\n{{ 1 / 0 }}")
    assert error.value.field == "body" and error.value.line == 2
    assert "division by zero" in str(error.value)


def test_the_editor_is_told_about_unknown_variables() -> None:
    assert rendering.unknown_variables(
        subject="Hi {{ custmer.first_name }}",
        body="{{ customer.frist_name }} {{ customer.first_name }} {{ links.loyalty_url }}\n"
        "{% for item in order.items %}{{ item.whatever }}{% endfor %}{{ button(links.shop_url) }}",
    ) == ["custmer", "customer.frist_name"]
    for key in ALL_KEYS:
        for locale in LOCALES:
            shipped = template_catalog.shipped(key=key, locale=locale)
            assert shipped is not None
            assert (
                rendering.unknown_variables(
                    subject=shipped.subject, preheader=shipped.preheader, body=shipped.body
                )
                == []
            ), (key, locale)


def test_check_template_accepts_a_good_template() -> None:
    rendering.check_template(
        subject="Hi {{ customer.greeting_name }}",
        preheader="Order {{ order.number }}",
        body="{% for item in order.items %}- {{ item.name }}\n{% endfor %}\n{{ order_items() }}",
    )


# --- SMS --------------------------------------------------------------------------------------


def test_sms_is_plain_text_and_stays_in_gsm_when_it_can() -> None:
    sms = TemplateSource(
        key="t",
        locale="en",
        channel="sms",
        subject="",
        preheader="",
        body="We’re on it, {{ customer.first_name }}… **Track**: [here]({{ links.order_url }})",  # noqa: RUF001
        origin="store",
    )
    text = rendering.render_sms(source=sms, variables=sample(), link_wrapper=track)
    assert (
        text == f"We're on it, Ann... Track: here: {track('https://shop.example/c/sample/order')}"
    )
    assert rendering.sms_segments("x" * 160) == 1 and rendering.sms_segments("x" * 161) == 2
    assert rendering.sms_segments("{" * 80) == 1 and rendering.sms_segments("{" * 81) == 2
    assert rendering.sms_segments("가" * 70) == 1 and rendering.sms_segments("가" * 71) == 2
    korean = TemplateSource(
        key="t", locale="ko", channel="sms", subject="", preheader="", body="“안녕”", origin="store"
    )
    assert rendering.render_sms(source=korean, variables={}) == "“안녕”"  # UCS-2 anyway: kept


# --- caching ----------------------------------------------------------------------------------


def test_customers_of_one_template_share_one_markdown_parse() -> None:
    body = "Hi **{{ customer.first_name }}**, order {{ order.number }} {{ order_items() }}"
    render(body, sample(customer__first_name="Ann"))
    before = rendering._compile_markdown.cache_info()
    email = render(body, sample(customer__first_name="<Bob>"))
    after = rendering._compile_markdown.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses
    assert "<strong>&lt;Bob&gt;</strong>" in email.html
