"""CSV export of the customer list: formula-safe cells, UTF-8 with BOM, the same filters as the
list, small lists at once, large ones through a job with progress, downloads for the store's
staff only (404 otherwise), files gone after 24 hours."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client

from aftercare.exports import services as export_services
from aftercare.exports.csv_cells import safe_cell
from aftercare.exports.models import Export, ExportStatus
from aftercare.jobs import services as job_services
from aftercare.jobs.models import Job
from aftercare.stores.models import Store
from tests.factories import MembershipFactory
from tests.mirror_factories import CustomerFactory, CustomerStatsFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def owner(client: Client, store: Store) -> Client:
    client.force_login(MembershipFactory(store=store, role="owner").user)
    return client


def _rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("plain", "plain"),
        ("김민아", "김민아"),
        (Decimal("-12.50"), Decimal("-12.50")),  # our own numbers stay numbers
        (None, ""),
        (True, "yes"),
    ],
)
def test_formula_cells_are_neutralised(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


@pytest.fixture
def customers(store: Store, other_store: Store) -> None:
    evil = CustomerFactory(
        store=store,
        email="evil@example.com",
        first_name="=cmd|'/c calc'!A0",
        last_name="김",
        locale="ko",
    )
    CustomerStatsFactory(
        customer=evil, total_spent=Decimal("250.00"), orders_count=3, segment="champions"
    )
    CustomerFactory(store=store, email="plain@example.com", first_name="Plain", locale="en")
    CustomerFactory(store=other_store, email="theirs@globex.example", locale="ko")


def test_a_small_export_downloads_at_once_with_the_lists_filters(
    owner: Client, customers: None
) -> None:
    response = owner.post("/dashboard/customers/export/", {"locale": "ko"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _rows(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    header, *body = rows
    assert header[:3] == ["id", "email", "first_name"] and "total_spent" in header
    assert [row[1] for row in body] == ["evil@example.com"]  # filtered, store-scoped
    record = dict(zip(header, body[0], strict=True))
    assert record["first_name"] == "'=cmd|'/c calc'!A0"
    assert record["last_name"] == "김"
    assert record["total_spent"] == "250.00" and record["segment"] == "champions"
    assert Export.objects.count() == 0


@pytest.mark.usefixtures("customers")
def test_a_large_export_runs_as_a_job_with_progress_then_downloads(
    owner: Client,
    store: Store,
    other_store: Store,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export_services, "INLINE_LIMIT", 1)
    monkeypatch.setattr(export_services, "PROGRESS_EVERY", 1)
    response = owner.post("/dashboard/customers/export/", {})
    assert response.status_code == 302 and response["Location"].startswith("/dashboard/exports/")
    export = Export.objects.get()
    assert export.status == ExportStatus.PENDING and export.store == store
    assert Job.objects.filter(kind="exports.build").count() == 1

    page = owner.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'role="progressbar"' in page  # polls while busy

    assert job_services.run_due(worker_id="test", limit=10) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE
    assert (export.rows_done, export.rows_total, export.percent) == (2, 2, 100)
    assert export.expires_at == export.finished_at + timedelta(hours=24)  # type: ignore[operator]
    assert (data_dir / "exports" / export.file_name).is_file()

    page = owner.get("/dashboard/exports/", headers={"HX-Request": "true"}).content.decode()
    assert "every 1s" not in page  # polling stops
    link = re.search(r'href="(/dashboard/exports/download/\?id=\d+)"', page)
    assert link
    download = owner.get(link.group(1))
    assert download.status_code == 200
    rows = _rows(b"".join(download.streaming_content))  # type: ignore[attr-defined]
    assert sorted(row[1] for row in rows[1:]) == ["evil@example.com", "plain@example.com"]

    # Another store's staff (even an owner with EXPORT_DATA) gets a 404.
    stranger = Client()
    stranger.force_login(MembershipFactory(store=other_store, role="owner").user)
    assert stranger.get(link.group(1)).status_code == 404
    assert "evil@example.com" not in stranger.get("/dashboard/exports/").content.decode()


def test_exports_expire_after_24_hours(
    owner: Client, store: Store, customers: None, data_dir: Path
) -> None:
    export = export_services.request_customer_export(
        store=store,
        requested_by_id=None,
        filters=export_services.customer_directory.parse_filters({})[0],
        include_money=False,
    )
    job_services.run_due(worker_id="test", limit=10)
    export.refresh_from_db()
    path = data_dir / "exports" / export.file_name
    header = _rows(path.read_bytes())[0]
    assert "total_spent" not in header  # asked without revenue rights
    url = f"/dashboard/exports/download/?id={export.pk}"
    ready = owner.get(url)
    assert ready.status_code == 200
    assert b"evil@example.com" in b"".join(ready.streaming_content)  # type: ignore[attr-defined]
    with time_machine.travel(export.finished_at + timedelta(hours=24, seconds=1)):  # type: ignore[operator]
        assert owner.get(url).status_code == 404
        assert export_services.purge_expired() == 1
    assert not path.exists()
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED
    assert "Expired" in owner.get("/dashboard/exports/").content.decode()


def test_a_replayed_job_changes_nothing(store: Store, customers: None) -> None:
    export = export_services.request_customer_export(
        store=store,
        requested_by_id=None,
        filters=export_services.customer_directory.parse_filters({})[0],
        include_money=True,
    )
    export_services.build(export_id=export.pk)
    export.refresh_from_db()
    name = export.file_name
    export_services.build(export_id=export.pk)
    export.refresh_from_db()
    assert export.file_name == name and export.status == ExportStatus.DONE


def test_export_needs_the_permission_and_the_csrf_token(store: Store, customers: None) -> None:
    agent = Client()
    agent.force_login(MembershipFactory(store=store, role="agent").user)
    assert agent.post("/dashboard/customers/export/").status_code == 403
    assert agent.get("/dashboard/exports/").status_code == 403
    assert "Export CSV" not in agent.get("/dashboard/customers/").content.decode()

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(MembershipFactory(store=store, role="manager").user)
    assert strict.post("/dashboard/customers/export/").status_code == 403
    page = strict.get("/dashboard/customers/").content.decode()
    form = page[page.index('action="/dashboard/customers/export/"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token
    assert (
        strict.post(
            "/dashboard/customers/export/", {"csrfmiddlewaretoken": token.group(1)}
        ).status_code
        == 200
    )


def test_download_of_unknown_or_unfinished_exports_is_404(owner: Client, store: Store) -> None:
    export = export_services.request_customer_export(
        store=store,
        requested_by_id=None,
        filters=export_services.customer_directory.parse_filters({})[0],
        include_money=True,
    )
    for query in (f"?id={export.pk}", "?id=999999", "?id=abc", ""):
        assert owner.get(f"/dashboard/exports/download/{query}").status_code == 404
