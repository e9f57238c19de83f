"""The huddle's order (urgent, warning, info, none; chair time within each) and its chairs per hour."""

from __future__ import annotations

from datetime import timedelta

from kdash.domain.policy import DEFAULT_SETTINGS as S
from kdash.domain.vocab import FLAG_SEVERITY, FlagCode, InfusionStatus, Severity
from kdash.rules.course import can_start_course
from kdash.rules.huddle import PatientContext, build_huddle
from kdash.rules.screening import RescreenDecision, screening_status
from tests.records import DAY, calm_context, course, decision, infusion, items, replace_ctx, series
from tests.rules.test_rules_huddle import with_today


def _at(ctx: PatientContext, hour: int, minute: int = 0) -> PatientContext:
    c = ctx.courses[0]
    infs = [
        *c.infusions[:-1],
        infusion(c.infusions[-1].number, DAY, InfusionStatus.SCHEDULED, hour=hour, minute=minute),
    ]
    return replace_ctx(ctx, courses=(course(infs),))


def test_each_severity_comes_before_the_next_whatever_the_chair_time() -> None:
    none = _at(calm_context(pid=1, mrn="T0001"), 8)
    position8 = [*series(DAY - timedelta(days=14), 7), infusion(8, DAY, InfusionStatus.SCHEDULED)]
    info = _at(replace_ctx(calm_context(pid=2, mrn="T0002"), courses=(course(position8),)), 9)
    warning = _at(with_today(calm_context(pid=3, mrn="T0003"), bp_pre_sys=150, bp_pre_dia=80), 10)
    urgent = _at(replace_ctx(calm_context(pid=4, mrn="T0004"), screening_decisions=()), 11)
    entries = build_huddle(DAY, [none, info, warning, urgent], S).entries
    assert FLAG_SEVERITY[FlagCode.COURSE_NEARLY_COMPLETE] is Severity.INFO
    assert [e.patient.mrn for e in entries] == ["T0004", "T0003", "T0002", "T0001"]


def test_chairs_per_hour_counts_a_booking_in_every_hour_it_holds_a_chair() -> None:
    half_past = _at(calm_context(pid=1, mrn="T0001"), 9, 30)  # holds 09:30–11:30
    late = _at(calm_context(pid=2, mrn="T0002"), 15, 10)  # holds 15:10–17:10
    loads = build_huddle(DAY, [half_past, late], S).summary.chairs_per_hour
    assert S.chair_minutes == 120
    assert [(h.hour, h.chairs_used) for h in loads] == [
        (8, 0), (9, 1), (10, 1), (11, 1), (12, 0), (13, 0), (14, 0), (15, 1), (16, 1), (17, 1),
    ]  # fmt: skip


def test_the_first_course_is_course_one_and_says_so() -> None:
    cleared = screening_status(items(DAY), [decision(DAY)], S)
    first = can_start_course([], cleared, RescreenDecision(False, ()))
    assert (first.allowed, first.number, first.reasons) == (
        True,
        1,
        ("Course 1 may start with its trial infusion",),
    )
    refused = can_start_course([], screening_status([], [], S), RescreenDecision(False, ()))
    assert (refused.allowed, refused.number) == (False, None)
