"""The Korean and Japanese catalogues: complete, well-formed, compiled, current with the code,
and actually used by the dashboard and the customer pages.

How to update them: docs/translations.md."""

from __future__ import annotations

import gettext
import io
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from aftercare.stores import services as store_services
from aftercare.stores.models import StaffRole, Store
from tests.portal.factories import CustomerFactory
from tests.portal.links import preferences_path

SRC = Path(__file__).resolve().parent.parent / "src" / "aftercare"
LANGUAGES = ("ko", "ja")
CATALOGUES = sorted(SRC.glob("*/locale/*/LC_MESSAGES/django.po"))
APPS = sorted(p.parent.name for p in SRC.glob("*/__init__.py"))
PASSWORD = "correct horse battery staple"


# --- a tiny .po reader -----------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


def read_po(path: Path) -> tuple[Entry, list[Entry]]:
    """(header, entries) of a .po file."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if current is not None:
                entries.append(current)
            current, target = None, None
            continue
        if current is None:
            current = Entry()
        if line.startswith("#~"):
            current.obsolete = True
            continue
        if line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])? (\".*\")$", line)
        if match:
            target = (match.group(1), int(match.group(2) or 0))
            value = _unquote(match.group(3))
        else:
            assert target is not None, f"{path}: cannot read {raw!r}"
            value = _unquote(line)
        name, index = target
        if name == "msgstr":
            current.msgstr[index] = current.msgstr.get(index, "") + value
        else:
            setattr(current, name, (getattr(current, name) or "") + value)
    header = entries[0]
    assert header.msgid == "" and header.msgctxt is None, f"{path}: no header"
    return header, entries[1:]


def _language(path: Path) -> str:
    return path.parent.parent.name


def _app(path: Path) -> str:
    return path.relative_to(SRC).parts[0]


def _id(path: Path) -> str:
    return f"{_app(path)}-{_language(path)}"


def test_the_catalogues_exist_for_every_language_of_the_apps_that_need_them() -> None:
    found = {(_app(p), _language(p)) for p in CATALOGUES}
    apps = {app for app, _ in found}
    assert {"dashboard", "portal", "analytics"} <= apps
    assert found == {(app, lang) for app in apps for lang in LANGUAGES}


# --- (a) complete and well-formed ------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%(?:\([A-Za-z0-9_]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")
_BRACES = re.compile(r"\{[A-Za-z0-9_]*\}")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def _placeholders(text: str) -> list[str]:
    """The arguments a python-format string takes ("%%" is a literal percent sign)."""
    return sorted(found for found in _PLACEHOLDER.findall(text) if found != "%%")


@pytest.mark.parametrize("path", CATALOGUES, ids=_id)
def test_header_names_the_language_plural_rule_and_utf8(path: Path) -> None:
    header, _ = read_po(path)
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    assert fields["Language"] == _language(path)
    assert fields["Plural-Forms"] == "nplurals=1; plural=0;"  # Korean and Japanese
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert "fuzzy" not in header.flags


@pytest.mark.parametrize("path", CATALOGUES, ids=_id)
def test_every_message_is_translated_and_none_is_fuzzy(path: Path) -> None:
    _, entries = read_po(path)
    assert entries
    problems = []
    for entry in entries:
        if entry.obsolete:
            problems.append(f"obsolete: {entry.msgid!r}")
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        expected = [0]  # nplurals=1
        if sorted(entry.msgstr) != expected or not all(v.strip() for v in entry.msgstr.values()):
            problems.append(f"untranslated: {entry.msgid!r}")
    assert problems == []


@pytest.mark.parametrize("path", CATALOGUES, ids=_id)
def test_translations_keep_placeholders_and_markup(path: Path) -> None:
    """Placeholders exactly as in the source; the same tags; and no character that means
    something in HTML unless the source has it (template translations are not escaped)."""
    _, entries = read_po(path)
    problems = []
    for entry in entries:
        source = entry.msgid_plural or entry.msgid
        for text in entry.msgstr.values():
            if "python-format" in entry.flags and _placeholders(text) != _placeholders(source):
                problems.append(f"placeholders: {entry.msgid!r} -> {text!r}")
            if sorted(_BRACES.findall(text)) != sorted(_BRACES.findall(source)):
                problems.append(f"braces: {entry.msgid!r} -> {text!r}")
            if sorted(_TAG.findall(text)) != sorted(_TAG.findall(source)):
                problems.append(f"tags: {entry.msgid!r} -> {text!r}")
            for char in '<>&"':
                if char in text and char not in source:
                    problems.append(f"{char}: {entry.msgid!r} -> {text!r}")
            if text.strip() != text and source.strip() == source:
                problems.append(f"whitespace: {entry.msgid!r} -> {text!r}")
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_apps_agree_on_shared_messages(language: str) -> None:
    """Django merges every app's catalogue into one: a message in two apps must read the same
    in both, or which one wins depends on INSTALLED_APPS order."""
    seen: dict[tuple[str | None, str], dict[str, str]] = defaultdict(dict)
    for path in CATALOGUES:
        if _language(path) == language:
            for entry in read_po(path)[1]:
                seen[entry.key][_app(path)] = entry.msgstr[0]
    clashes = {key: apps for key, apps in seen.items() if len(set(apps.values())) > 1}
    assert clashes == {}


@pytest.mark.parametrize("app", sorted({_app(p) for p in CATALOGUES}))
def test_korean_and_japanese_catalogues_hold_the_same_messages(app: str) -> None:
    keys = {
        lang: {e.key for e in read_po(SRC / app / "locale" / lang / "LC_MESSAGES" / "django.po")[1]}
        for lang in LANGUAGES
    }
    assert keys["ko"] == keys["ja"]


# --- (b) the committed .mo is the compiled .po ------------------------------------------------


def _catalog(data: bytes) -> dict[object, str]:
    return dict(gettext.GNUTranslations(io.BytesIO(data))._catalog)  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", CATALOGUES, ids=_id)
def test_compiled_catalogue_is_current(path: Path, tmp_path: Path) -> None:
    committed = path.with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing: run compilemessages"
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (GNU gettext) is not installed; cannot recompile the .po")
    fresh = tmp_path / "django.mo"
    subprocess.run(  # noqa: S603 - msgfmt found on PATH, our own files
        [msgfmt, "--check-format", "--check-header", "-o", str(fresh), str(path)],
        check=True,
        capture_output=True,
    )
    committed_catalog = _catalog(committed.read_bytes())
    fresh_catalog = _catalog(fresh.read_bytes())
    assert committed_catalog == fresh_catalog, "the .mo is stale: run compilemessages"
    assert len(committed_catalog) == len(read_po(path)[1]) + 1  # + the header


# --- (c) every marked string of the code is in the catalogues --------------------------------


def _extracted(
    app: str, work: Path, monkeypatch: pytest.MonkeyPatch
) -> set[tuple[str | None, str]]:
    """The messages makemessages finds in a copy of the app today."""
    copy = work / app
    shutil.copytree(
        SRC / app, copy, ignore=shutil.ignore_patterns("locale", "static", "__pycache__")
    )
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["ko"], verbosity=0, no_obsolete=True)
    monkeypatch.undo()
    po = copy / "locale" / "ko" / "LC_MESSAGES" / "django.po"
    return {e.key for e in read_po(po)[1]} if po.exists() else set()


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (GNU gettext) missing")
@pytest.mark.parametrize("app", APPS)
def test_catalogues_hold_every_message_marked_in_the_code(
    app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extracted = _extracted(app, tmp_path, monkeypatch)
    for language in LANGUAGES:
        po = SRC / app / "locale" / language / "LC_MESSAGES" / "django.po"
        if not extracted:
            assert not po.exists(), f"{app} has no translatable strings but a catalogue"
            continue
        assert po.exists(), f"{app} has translatable strings but no {language} catalogue"
        committed = {e.key for e in read_po(po)[1]}
        assert sorted(extracted - committed, key=str) == [], "run makemessages and translate"
        assert sorted(committed - extracted, key=str) == [], "run makemessages --no-obsolete"


# --- (d) the pages speak Korean and Japanese -------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [("ko", ["로그인", "비밀번호", "비밀번호를 잊으셨나요"]),
     ("ja", ["ログイン", "パスワード", "パスワードをお忘れですか"])],
)  # fmt: skip
def test_login_page_follows_the_browser_language(language: str, expected: list[str]) -> None:
    response = Client().get("/dashboard/login/", HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'lang="{language}"' in html
    for text in expected:
        assert text in html
    assert "Forgot your password?" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [("ko", ["개요", "고객", "주문", "설정", "소유자", "최근 30일", "아직 주문이 없습니다"]),
     ("ja", ["概要", "顧客", "注文", "設定", "オーナー", "過去 30 日間", "まだ注文はありません"])],
)  # fmt: skip
def test_overview_speaks_the_staff_members_language(
    store: Store, language: str, expected: list[str]
) -> None:
    member = store_services.create_staff_member(
        store=store, email="owner@example.com", password=PASSWORD, role=StaffRole.OWNER
    )
    store_services.set_staff_language(user_id=member.user_id, language=language)
    client = Client()
    assert client.login(username="owner@example.com", password=PASSWORD)
    # The staff member's choice wins over the browser's.
    response = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    for text in expected:
        assert text in html, text
    for english in ("Overview", "Last 30 days", "No orders yet", ">Owner<"):
        assert english not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [("ko", ["수신 설정", "모두 수신 거부", "혜택 및 소식 이메일", "수신 안 함"]),
     ("ja", ["配信設定", "すべて配信停止", "お得な情報やお知らせのメール", "配信停止中"])],
)  # fmt: skip
def test_preferences_page_speaks_the_chosen_language(
    store: Store, language: str, expected: list[str]
) -> None:
    store.languages = ["en", "ko", "ja"]
    store.save()
    customer = CustomerFactory(store=store, email="jane.doe@example.com")
    response = Client().get(preferences_path(customer) + f"?lang={language}")
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == language
    for text in expected:
        assert text in html, text
    assert "Your preferences" not in html and "Unsubscribe from all" not in html
