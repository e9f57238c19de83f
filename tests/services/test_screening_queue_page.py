"""The screening queue is read a page at a time, in queue order, with the number waiting."""

from __future__ import annotations

from datetime import date, datetime, time

from hypothesis import given
from hypothesis import strategies as st

from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.services.screening_queue import (
    PAGE_SIZE,
    QueueRow,
    queue_page,
    screening_queue,
    screening_queue_page,
)
from kdash.storage.database import Database
from tests.seeded import CLINIC_TODAY as TODAY
from tests.seeded import Clinic, insert_patient
from tests.services.test_screening_queue_order import book, clinic

__all__ = ["clinic"]  # the fixture, used by name

ALL = ["not_started", "incomplete", "needs_review", "not_eligible", "rescreen_due"]


def add_waiting(db: Database, n: int) -> None:
    """``n`` patients with no screening item yet: each waits in the queue."""
    with db.write() as s:
        for i in range(n):
            insert_patient(s, f"Q{i:04d}", first=f"Wren{i}", last="Queue")


def test_pages_cut_the_queue_in_order_with_the_count(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    add_waiting(db, 120)
    book(db, c.ids["needs_review"], datetime.combine(TODAY, time(9, 0)))
    everyone = [q.mrn for q in screening_queue(db, DEFAULT_SETTINGS, TODAY)]
    assert len(everyone) == 122
    pages = [screening_queue_page(db, DEFAULT_SETTINGS, TODAY, ALL, page=n) for n in (1, 2, 3)]
    assert [p.matching for p in pages] == [122, 122, 122]
    assert [len(p.rows) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 122 - 2 * PAGE_SIZE]
    assert (pages[1].first, pages[1].last, pages[1].pages) == (51, 100, 3)
    # The patient in a chair today heads page 1; page 2 goes on where page 1 stopped.
    assert pages[0].rows[0].mrn == "D0004"
    assert [r.mrn for p in pages for r in p.rows] == everyone
    # A page past the end shows the last one.
    assert screening_queue_page(db, DEFAULT_SETTINGS, TODAY, ALL, page=99).page == 3


def test_search_and_status_narrow_the_count(clinic: tuple[Database, Clinic]) -> None:
    db, _ = clinic
    add_waiting(db, 60)
    found = screening_queue_page(db, DEFAULT_SETTINGS, TODAY, ALL, "Carver, S")
    assert [r.mrn for r in found.rows] == ["D0003"]
    assert found.matching == 1
    review = screening_queue_page(db, DEFAULT_SETTINGS, TODAY, ["needs_review"])
    assert [r.mrn for r in review.rows] == ["D0004"]
    # The counts by status are of the whole queue, whatever the filter.
    assert dict(review.counts)["not_started"] == 61


def _row(i: int, status: str) -> QueueRow:
    return QueueRow(i, f"M{i:05d}", f"Last{i}, First", "Dr A", "depression", status, date(2026, 1, 1), "")


@given(
    st.lists(st.sampled_from(ALL), max_size=80),
    st.integers(min_value=1, max_value=30),
    st.sets(st.sampled_from(ALL)),
)
def test_the_pages_together_are_the_filtered_queue(statuses: list[str], size: int, chosen: set[str]) -> None:
    rows = [_row(i, s) for i, s in enumerate(statuses)]
    first = queue_page(rows, sorted(chosen), page_size=size)
    joined = [
        r
        for n in range(1, first.pages + 1)
        for r in queue_page(rows, sorted(chosen), page=n, page_size=size).rows
    ]
    assert joined == [r for r in rows if r.status in chosen]
    assert first.matching == len(joined)
    assert all(
        len(queue_page(rows, sorted(chosen), page=n, page_size=size).rows) <= size for n in range(1, 4)
    )
