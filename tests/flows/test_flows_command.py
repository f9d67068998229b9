"""`aftercare flows list|presets|enable-preset|pause|resume|export|import --store S`."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from aftercare.flows import services as flows_services
from aftercare.flows.models import Flow
from aftercare.stores.models import Store

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("flows", *args, stdout=out)
    return out.getvalue()


def test_enable_preset_twice_makes_one_active_flow(store: Store) -> None:
    first = _run("enable-preset", "review-request", "--store", store.slug)
    assert "created and active" in first
    second = _run("enable-preset", "review-request", "--store", store.slug)
    assert "is active" in second and "created" not in second
    flow = Flow.objects.get(store=store)
    assert flow.preset == "review-request" and flow.status == "active"


def test_dry_run_changes_nothing(store: Store) -> None:
    out = _run("enable-preset", "thank-you", "--store", store.slug, "--dry-run")
    assert out.startswith("dry run, nothing changed") and "thank-you" in out
    assert not Flow.objects.exists()


def test_list_pause_resume(store: Store, other_store: Store) -> None:
    flow = flows_services.enable_preset(store=store, name="thank-you")
    flows_services.enable_preset(store=other_store, name="win-back")
    listing = _run("list", "--store", store.slug).splitlines()
    assert listing[0].startswith("id\tstatus")
    assert len(listing) == 2  # the other store's flow is not listed
    assert listing[1].split("\t")[:4] == [str(flow.pk), "active", "transactional", "thank-you"]

    assert "is paused" in _run("pause", str(flow.pk), "--store", store.slug)
    flow.refresh_from_db()
    assert flow.status == "paused"
    assert "is active" in _run("resume", str(flow.pk), "--store", store.slug)
    flow.refresh_from_db()
    assert flow.status == "active"


def test_another_stores_flow_is_not_found(store: Store, other_store: Store) -> None:
    flow = flows_services.enable_preset(store=other_store, name="thank-you")
    for action in ("pause", "resume", "export"):
        with pytest.raises(CommandError, match="No such flow"):
            _run(action, str(flow.pk), "--store", store.slug)
    flow.refresh_from_db()
    assert flow.status == "active"


def test_export_then_import_makes_a_draft_copy(store: Store, tmp_path: Path) -> None:
    flow = flows_services.enable_preset(store=store, name="review-request")
    text = _run("export", str(flow.pk), "--store", store.slug)
    assert yaml.safe_load(text)["name"] == "Review request"
    path = tmp_path / "review.yaml"
    path.write_text(text, encoding="utf-8")

    checked = _run("import", str(path), "--store", store.slug, "--dry-run")
    assert checked.startswith("dry run") and Flow.objects.count() == 1
    out = _run("import", str(path), "--store", store.slug)
    assert "as a draft" in out
    copy = Flow.objects.exclude(pk=flow.pk).get()
    assert copy.status == "draft" and copy.steps == flow.steps and copy.preset == ""


def test_import_of_a_bad_file_names_the_problems(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: Broken\ntrigger: {type: order.teleported}\nsteps:\n"
        "  - {key: send, type: action, action: send_pigeon}\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as raised:
        _run("import", str(path), "--store", store.slug)
    assert "trigger.type" in str(raised.value) and "steps.0.action" in str(raised.value)
    with pytest.raises(CommandError, match="cannot read"):
        _run("import", str(tmp_path / "missing.yaml"), "--store", store.slug)
    assert not Flow.objects.exists()


def test_presets_and_unknown_store(store: Store) -> None:
    flows_services.enable_preset(store=store, name="birthday")
    rows = {
        line.split("\t")[0]: line for line in _run("presets", "--store", store.slug).splitlines()
    }
    assert "active" in rows["birthday"] and rows["win-back"].split("\t")[1] == "-"
    with pytest.raises(CommandError):
        _run("list", "--store", "no-such-store")
    with pytest.raises(CommandError):
        _run("enable-preset", "free-money", "--store", store.slug)
