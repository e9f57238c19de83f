"""Minimum necessary for the scheduler (issue 20, finding 7): no PHQ-9 item 9 answers, suicide-risk details
or adverse events in any read service or page, while clinical roles keep seeing them.

The scheduler books infusions and chairs and checks escorts and screening state; the choice is written in
docs/security.md ("Minimum necessary").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from kdash.domain.access import Action
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import FlagCode
from kdash.services.huddle import read_huddle, view_huddle
from kdash.services.minimum_necessary import WITHHELD
from kdash.services.patient_detail import patient_detail
from kdash.services.trends import patient_trend
from kdash.storage.database import Database
from kdash.storage.models import Infusion
from tests.apptest_support import ACTORS, make_app_db, run_page
from tests.seeded import Clinic, build_clinic, insert_score

ADVERSE = "transient nausea and dizziness"
SCHEDULER = ACTORS["scheduler"]
CLINICAL = ("provider", "nurse", "admin", "viewer")


@pytest.fixture
def clinic_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, Clinic]]:
    for db in make_app_db(tmp_path, monkeypatch, users=False):
        clinic = build_clinic(db, date.today())
        with db.write() as s:
            s.execute(
                update(Infusion)
                .where(Infusion.course_id == clinic.courses["on_course"])
                .values(adverse_events=ADVERSE)
            )
            insert_score(s, clinic.ids["suicide_risk"], "C-SSRS", 3, date.today() - timedelta(days=1))
        yield db, clinic


def _text_of(detail: object) -> str:
    return repr(detail)


def test_only_the_scheduler_lacks_view_sensitive() -> None:
    assert not SCHEDULER.can(Action.VIEW_SENSITIVE)
    assert SCHEDULER.can(Action.VIEW_CLINICAL)
    assert all(ACTORS[r].can(Action.VIEW_SENSITIVE) for r in CLINICAL)


def test_patient_detail_withholds_item9_suicide_details_and_adverse_events_from_the_scheduler(
    clinic_db: tuple[Database, Clinic],
) -> None:
    db, clinic = clinic_db
    today = date.today()
    seen = patient_detail(db, DEFAULT_SETTINGS, clinic.ids["suicide_risk"], today, SCHEDULER)
    assert seen is not None
    assert all(a.item9 is None for a in seen.context.assessments)
    assert all(a.instrument != "C-SSRS" for a in seen.context.assessments)
    assert seen.context.suicide_reviews == ()
    (flag,) = [f for f in seen.flags if f.code is FlagCode.SUICIDE_RISK]
    assert flag.message == WITHHELD
    assert flag.blocks  # still not ready: the scheduler sees that, not why in detail
    assert seen.ready is False
    assert "item 9" not in _text_of(seen.ready_reasons).replace("No positive PHQ-9 item 9", "")
    assert "C-SSRS screener high risk" not in _text_of(seen)
    booked = patient_detail(db, DEFAULT_SETTINGS, clinic.ids["on_course"], today, SCHEDULER)
    assert booked is not None
    assert ADVERSE not in _text_of(booked)
    assert any(s.infusion is not None for v in booked.courses for s in v.slots)  # bookings still there

    for role in CLINICAL:
        full = patient_detail(db, DEFAULT_SETTINGS, clinic.ids["suicide_risk"], today, ACTORS[role])
        assert full is not None
        assert any(a.item9 == 2 for a in full.context.assessments)
        assert "PHQ-9 item 9 answered 2" in _text_of(full.flags)
        other = patient_detail(db, DEFAULT_SETTINGS, clinic.ids["on_course"], today, ACTORS[role])
        assert ADVERSE in _text_of(other)


def test_huddle_and_trend_reads_withhold_the_same(clinic_db: tuple[Database, Clinic]) -> None:
    db, clinic = clinic_db
    for huddle in (
        read_huddle(db, date.today(), DEFAULT_SETTINGS, SCHEDULER),
        view_huddle(db, SCHEDULER, date.today(), DEFAULT_SETTINGS),
    ):
        text = _text_of(huddle)
        assert "item 9 answered" not in text
        assert "C-SSRS screener" not in text
        assert "'C-SSRS'" not in text  # no C-SSRS score summary
        assert ADVERSE not in text
        assert WITHHELD in text
        assert {e.patient.id for e in huddle.entries} >= {clinic.ids["suicide_risk"], clinic.ids["on_course"]}
    full = read_huddle(db, date.today(), DEFAULT_SETTINGS, ACTORS["nurse"])
    assert "PHQ-9 item 9 answered 2" in _text_of(full)
    trend = patient_trend(db, DEFAULT_SETTINGS, clinic.ids["suicide_risk"], SCHEDULER)
    assert trend is not None
    assert [i.instrument for i in trend.instruments] == ["PHQ-9"]
    provider_trend = patient_trend(db, DEFAULT_SETTINGS, clinic.ids["suicide_risk"], ACTORS["provider"])
    assert provider_trend is not None
    assert "C-SSRS" in [i.instrument for i in provider_trend.instruments]


def _page_text(at: object) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "subheader"):
        parts += [str(el.value) for el in getattr(at, kind)]
    for frame in at.dataframe:  # type: ignore[attr-defined]
        parts.append(frame.value.to_csv())
    return "\n".join(parts).replace("\\", "")


@pytest.mark.parametrize(
    ("page", "patient"), [("huddle.py", None), ("patient.py", "suicide_risk"), ("patient.py", "on_course")]
)
def test_the_scheduler_pages_show_none_of_it_and_the_nurse_pages_do(
    page: str, patient: str | None, clinic_db: tuple[Database, Clinic]
) -> None:
    _, clinic = clinic_db
    state = {} if patient is None else {"patient_id": clinic.ids[patient]}
    scheduler = _page_text(run_page(page, SCHEDULER, state=dict(state)))
    nurse = _page_text(run_page(page, ACTORS["nurse"], state=dict(state)))
    for secret in ("item 9 answered", ADVERSE, "Item 9", "C-SSRS screener high risk"):
        assert secret not in scheduler, (page, secret)
    assert any(secret in nurse for secret in ("item 9 answered", ADVERSE, "Item 9"))
