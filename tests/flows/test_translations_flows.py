"""Flows speak Korean and Japanese: the labels of triggers, actions, facts and choices, the
preset gallery, the API's list of presets, and the editor a Korean or Japanese staff member
uses. English stays exactly what it was (the presets' YAML is its source)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import TextChoices
from django.test import Client
from django.utils import translation
from django.utils.functional import Promise

from aftercare.flows import actions, conditions, preset_text, presets, triggers
from aftercare.flows import services as flow_services
from aftercare.flows.models import FlowCategory, FlowStatus, Reentry, RunStatus, StepStatus
from aftercare.stores import services as store_services
from aftercare.stores.models import StaffRole, Store
from tests.api.conftest import fill_store

LANGUAGES = ("ko", "ja")
# Labels that read the same in every language.
SAME_EVERYWHERE = {"URL"}
PASSWORD = "correct horse battery staple"


def _labels() -> list[tuple[str, Any]]:
    """Every label staff see in the editor, with where it comes from."""
    found: list[tuple[str, Any]] = []
    for trigger in triggers.all_triggers():
        found.append((f"trigger {trigger.key}", trigger.label))
        found += [(f"trigger {trigger.key}.{f.name}", f.label) for f in trigger.config_fields]
    for action in actions.all_actions():
        found.append((f"action {action.key}", action.label))
        found += [(f"action {action.key}.{p.name}", p.label) for p in action.params]
    found += [(f"fact {fact.key}", fact.label) for fact in conditions.FACTS.values()]
    choices: list[type[TextChoices]] = [FlowStatus, FlowCategory, Reentry, RunStatus, StepStatus]
    for enum in choices:
        found += [(f"{enum.__name__}.{member.name}", member.label) for member in enum]
    return found


def test_every_label_is_lazy() -> None:
    """Built once at import, read in the language of whoever looks."""
    assert [where for where, label in _labels() if not isinstance(label, Promise)] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_label_is_translated(language: str) -> None:
    untranslated = []
    for where, label in _labels():
        with translation.override("en"):
            english = str(label)
        with translation.override(language):
            translated = str(label)
        if translated == english and english not in SAME_EVERYWHERE:
            untranslated.append(f"{where}: {english!r}")
    assert untranslated == []


# --- presets ---------------------------------------------------------------------------------


def test_every_shipped_preset_has_its_words_and_they_are_its_yaml() -> None:
    """The table's English is the YAML's text word for word: the YAML stays the source, and
    what English speakers see (gallery, API, a new flow's name) does not change."""
    assert set(preset_text.TEXT) == set(presets.names())
    with translation.override("en"):
        for name in presets.names():
            data = presets.load(name)
            text = preset_text.TEXT[name]
            assert (str(text.title), str(text.description)) == (
                data["name"],
                data["description"],
            ), name


def test_a_preset_without_an_entry_shows_its_yaml() -> None:
    text = preset_text.of("made-later", {"name": "Made later", "description": "Its own words."})
    assert (text.title, text.description) == ("Made later", "Its own words.")


@pytest.mark.parametrize(
    ("language", "name", "description"),
    [
        ("ko", "재방문 유도", "90일 동안 결제 주문이 없는 고객에게 보냅니다"),
        ("ja", "休眠顧客の掘り起こし", "90 日間支払い済みの注文がないお客様に送ります"),
        ("en", "Win-back", "We miss you - 90 days without a paid order"),
    ],
)
def test_load_names_a_preset_in_the_language_asked(
    language: str, name: str, description: str
) -> None:
    data = presets.load("win-back", language=language)
    assert data["name"] == name
    assert description in data["description"]
    # The definition itself is untouched.
    assert data["trigger"] == presets.load("win-back")["trigger"]


def test_load_without_a_language_is_the_yaml_as_it_was() -> None:
    with translation.override("ko"):
        data = presets.load("thank-you")
    assert data["name"] == "Thank you"
    assert data["description"].startswith("A thank-you right after the order is paid")


# --- the dashboard ---------------------------------------------------------------------------


def _staff(store: Store, language: str) -> Client:
    member = store_services.create_staff_member(
        store=store, email=f"{language}@example.com", password=PASSWORD, role=StaffRole.OWNER
    )
    store_services.set_staff_language(user_id=member.user_id, language=language)
    client = Client()
    client.force_login(member.user)
    return client


GALLERY = {
    "ko": [
        "감사 인사",
        "결제 직후 주문 요약과 주문 조회 링크를 담아 감사 인사를 보냅니다.",
        "재방문 유도",
        "첫 주문 기념일",
        "주문 상태 알림",
    ],
    "ja": [
        "サンキューメール",
        "支払い直後に、注文内容と注文状況を確認できるリンクを添えてお礼を送ります。",
        "休眠顧客の掘り起こし",
        "初回注文記念日",
        "注文状況のお知らせ",
    ],
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_gallery_speaks_the_staff_members_language(store: Store, language: str) -> None:
    flow_services.enable_preset(store=store, name="order-status")
    response = _staff(store, language).get("/dashboard/flows/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    for text in GALLERY[language]:
        assert text in page, text
    # The flow list names each flow's trigger in the same language.
    assert {"ko": "주문 상태 변경", "ja": "注文ステータスの変更"}[language] in page
    for english in ("Thank you", "A thank-you right after", "Win-back", "Order status changed"):
        assert english not in page, english


# Full-width brackets and colon as escapes (ruff RUF001): \uff08 \uff09 \uff1a.
EDITOR = {
    "ko": {
        "trigger": ["주문 상태 변경", "주문 완료", "고객 생일", "일정 기간 결제 주문 없음"],
        "config": ["변경 후 상태(비워 두면 모든 상태)"],
        "action": ["이메일 보내기", "태그 추가", "웹훅 호출(서명 포함)"],
        "param": ["템플릿"],
        "fact": ["트리거: 변경 후 상태", "주문이 결제됨", "총 구매액(환불 제외)"],
    },
    "ja": {
        "trigger": [
            "注文ステータスの変更",
            "注文完了",
            "顧客の誕生日",
            "一定期間支払い済みの注文なし",
        ],
        "config": ["変更後のステータス\uff08空欄の場合はすべて\uff09"],
        "action": ["メールを送信", "タグを追加", "Webhook を呼び出す\uff08署名付き\uff09"],
        "param": ["テンプレート"],
        "fact": [
            "トリガー\uff1a変更後のステータス",
            "注文が支払い済み",
            "購入総額\uff08返金を除く\uff09",
        ],
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_flow_editor_shows_registry_labels_in_the_staff_members_language(
    store: Store, language: str
) -> None:
    """The form editor's trigger, option, action, parameter and fact labels come from the
    registries: a Korean (Japanese) staff member reads them in Korean (Japanese)."""
    flow = flow_services.enable_preset(store=store, name="order-status")
    client = _staff(store, language)
    builder = client.get(f"/dashboard/flows/{flow.pk}/form/", HTTP_ACCEPT_LANGUAGE="en")
    page = builder.content.decode()
    assert builder.status_code == 200
    for kind, texts in EDITOR[language].items():
        for text in texts:
            assert text in page, (kind, text)
    for english in ("Order status changed", "To status (any if empty)", "Send an email",
                    "Trigger: status changed to", "Customer&#x27;s birthday"):  # fmt: skip
        assert english not in page, english


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_flow_page_and_yaml_editor_use_the_same_words(store: Store, language: str) -> None:
    flow = flow_services.enable_preset(store=store, name="order-status")
    client = _staff(store, language)
    detail = client.get(f"/dashboard/flows/{flow.pk}/").content.decode()
    words = EDITOR[language]
    assert words["trigger"][0] in detail  # the trigger
    assert words["action"][0] in detail  # each action step's title
    assert words["fact"][0] in detail  # the conditions, in words
    reference = client.get(f"/dashboard/flows/{flow.pk}/edit/").content.decode()
    for text in (words["trigger"][1], words["action"][1], words["fact"][1]):
        assert text in reference, text


# --- the API ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "label", "description"),
    [
        ("ko", "리뷰 요청", "주문 완료 14일 후 리뷰를 요청합니다."),
        ("ja", "レビュー依頼", "注文完了の 14 日後にレビューを依頼します。"),
        ("", "Review request", "Asks for a review 14 days after the order is completed"),
    ],
)
def test_the_api_lists_presets_in_the_requested_language(
    store: Store, accept: str, label: str, description: str
) -> None:
    fill_store(store)
    token = store_services.create_api_token(store=store, name="test").token
    headers = {"Authorization": f"Bearer {token}"}
    if accept:
        headers["Accept-Language"] = accept
    response = Client().get("/api/v1/flows/presets", headers=headers)
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()}
    assert rows["review-request"]["label"] == label
    assert rows["review-request"]["description"].startswith(description)
    assert rows["review-request"]["trigger"] == "order.completed"  # keys are never translated
