"""The pure parts of flows: definitions, conditions, waits across time zones and DST, quiet
hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercare.core import local_time
from aftercare.flows import conditions, presets
from aftercare.flows.definition import Condition, InvalidFlow, WaitStep, parse
from aftercare.flows.timing import wait_end
from aftercare.messaging import policy

SEOUL, BERLIN, NEW_YORK = (
    ZoneInfo("Asia/Seoul"),
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/New_York"),
)


def test_every_preset_is_a_valid_definition() -> None:
    assert len(presets.names()) == 12
    for name in presets.names():
        parse(presets.load(name))


def test_a_definition_that_loops_or_names_unknown_steps_is_refused_with_reasons() -> None:
    with pytest.raises(InvalidFlow) as error:
        parse(
            {
                "name": "x",
                "trigger": {"type": "order.paid"},
                "steps": [
                    {"key": "a", "type": "action", "action": "send_email"},
                    {"key": "b", "type": "condition", "conditions": [
                        {"fact": "order.total", "op": "gt", "value": 1}], "if_false": "a"},
                ],
            }
        )  # fmt: skip
    assert "only jump forward" in str(error.value)
    with pytest.raises(InvalidFlow) as error:
        parse({"name": "", "trigger": {"type": "order.paid"}, "steps": []})
    assert set(error.value.problems) >= {"name", "steps"}


@pytest.mark.parametrize(
    ("fact", "op", "value", "facts", "expected"),
    [
        ("order.status", "eq", "Completed", {"order.status": "completed"}, True),
        ("order.total", "gte", "50", {"order.total": Decimal("50.00")}, True),
        ("order.total", "gt", 50, {"order.total": Decimal("50.00")}, False),
        ("order.is_refunded", "eq", False, {"order.is_refunded": False}, True),
        ("order.is_refunded", "eq", "false", {"order.is_refunded": True}, False),
        ("customer.tags", "contains", "VIP", {"customer.tags": ["vip", "new"]}, True),
        ("customer.tags", "not_contains", "VIP", {}, True),
        ("order.status", "in", ["completed", "processing"], {"order.status": "processing"}, True),
        ("order.status", "eq", "completed", {}, False),  # a missing fact never satisfies
        ("customer.birthday", "is_set", None, {"customer.birthday": None}, False),
    ],
)
def test_conditions(fact: str, op: str, value: object, facts: dict, expected: bool) -> None:  # type: ignore[type-arg]
    assert conditions.holds(Condition(fact=fact, op=op, value=value), facts) is expected  # type: ignore[arg-type]


def test_a_failed_condition_says_why() -> None:
    ok, why = conditions.evaluate(
        [Condition(fact="order.status", op="eq", value="completed")], {"order.status": "refunded"}
    )
    assert not ok and why == "order.status is 'refunded' (wanted eq 'completed')"


def test_wait_at_a_time_of_day_is_read_on_the_customers_clock() -> None:
    start = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
    step = WaitStep(key="w", type="wait", days=1, at=time(10, 0))
    assert wait_end(start=start, step=step, zone=SEOUL, dates={}) == datetime(
        2026, 6, 2, 1, 0, tzinfo=UTC
    )


def test_wait_across_the_spring_dst_change_keeps_the_wall_clock() -> None:
    # Berlin moves from +01:00 to +02:00 on 29 March 2026.
    start = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)  # 10:00 local, winter time
    step = WaitStep(key="w", type="wait", days=1, at=time(10, 0))
    assert wait_end(start=start, step=step, zone=BERLIN, dates={}) == datetime(
        2026,
        3,
        29,
        8,
        0,
        tzinfo=UTC,  # 10:00 local, summer time
    )


def test_a_local_time_skipped_by_dst_becomes_the_first_instant_after_the_gap() -> None:
    moment = local_time.local_to_utc(date(2026, 3, 8), time(2, 30), NEW_YORK)
    assert moment.astimezone(NEW_YORK).time() == time(3, 0)


def test_birthday_wait_lands_on_the_next_birthday_and_feb_29_on_feb_28() -> None:
    start = datetime(2027, 1, 10, 0, 0, tzinfo=UTC)
    step = WaitStep(key="w", type="wait", until_date="customer.birthday", at=time(9, 0))
    end = wait_end(
        start=start, step=step, zone=SEOUL, dates={"customer.birthday": date(1992, 2, 29)}
    )
    assert end == datetime(2027, 2, 28, 0, 0, tzinfo=UTC)  # 09:00 in Seoul
    assert wait_end(start=start, step=step, zone=SEOUL, dates={"customer.birthday": None}) is None


@given(
    moment=st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2027, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    zone_name=st.sampled_from(["Asia/Seoul", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
)
def test_quiet_hours_always_end_at_the_local_end_time(moment: datetime, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    until = policy.quiet_until(now=moment, zone=zone, start=time(21, 0), end=time(8, 0))
    local = moment.astimezone(zone).time()
    quiet = local >= time(21, 0) or local < time(8, 0)
    assert (until is not None) == quiet
    if until is not None:
        assert until > moment
        assert until.astimezone(zone).time() == time(8, 0)
        assert (until - moment).total_seconds() <= 11 * 3600 + 3600  # a DST night is an hour longer
