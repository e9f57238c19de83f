"""The roster page's rows come out of SQL filtered, ordered and paged exactly as filtering the whole
roster would give them, on SQLite and PostgreSQL.

The oracle is the plain Python filter over :func:`kdash.services.roster.roster` (every active patient);
Hypothesis picks filters, page sizes and pages over a generated clinic that holds every indication,
screening state and course stage, and bookings in the next two weeks (so urgent flags occur).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.clinic import TODAY, populate
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import CourseStatus, Indication, ScreeningStatus, values
from kdash.services.roster import NO_COURSE, RosterFilters, RosterRow, roster, roster_page
from kdash.storage.database import Database, make_engine
from kdash.storage.policy_repo import load_policy
from tests.conftest import pg_schema
from tests.seeded import seed_patient

PATIENTS = 90


def oracle(rows: Sequence[RosterRow], f: RosterFilters) -> list[RosterRow]:
    """Every filter in Python over the whole roster (an empty filter matches all)."""
    needle = f.search.strip().lower()
    out = []
    for r in rows:
        if f.providers and r.provider not in f.providers:
            continue
        if f.indications and r.indication not in f.indications:
            continue
        if f.course_statuses and (r.course_status or NO_COURSE) not in f.course_statuses:
            continue
        if f.screening and r.screening_status not in f.screening:
            continue
        if f.urgent_only and r.urgent == 0:
            continue
        if needle and needle not in r.name.lower() and needle not in r.mrn.lower():
            continue
        out.append(r)
    return out


class Clinic:
    def __init__(self, url: str) -> None:
        populate(url, PATIENTS, label="roster clinic")
        self.engine = make_engine(url)
        self.db = Database(engine=self.engine)
        with self.db.read() as s:
            self.settings: ClinicPolicy = load_policy(s)
        self.everyone = roster(self.db, self.settings, TODAY)
        self.providers = sorted({r.provider for r in self.everyone})


@pytest.fixture(scope="module")
def sqlite_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    clinic = Clinic(f"sqlite:///{tmp_path_factory.mktemp('roster') / 'clinic.db'}")
    yield clinic
    clinic.engine.dispose()


@pytest.fixture(scope="module")
def pg_clinic() -> Iterator[Clinic]:
    with pg_schema("kdash_roster") as url:
        clinic = Clinic(url)
        yield clinic
        clinic.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def clinic(request: pytest.FixtureRequest) -> Clinic:
    return request.getfixturevalue("sqlite_clinic" if request.param == "sqlite" else "pg_clinic")  # type: ignore[no-any-return]


def _subset(options: Sequence[str]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(list(options)), max_size=3, unique=True).map(tuple)


def filters(providers: Sequence[str]) -> st.SearchStrategy[RosterFilters]:
    return st.builds(
        RosterFilters,
        providers=_subset(providers),
        indications=_subset(values(Indication)),
        course_statuses=_subset([*values(CourseStatus), NO_COURSE]),
        screening=_subset(values(ScreeningStatus)),
        search=st.sampled_from(["", "a", "an", "DEMO", "0", "%", "_", "zz", " e "]),
        urgent_only=st.booleans(),
    )


def test_clinic_exercises_every_filter(sqlite_clinic: Clinic) -> None:
    rows = sqlite_clinic.everyone
    assert len(rows) > 40
    assert {r.screening_status for r in rows} >= {"cleared", "incomplete"}
    assert any(r.urgent for r in rows), "no urgent flag: the urgent filter would prove nothing"
    assert any(r.course_status is None for r in rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_page_equals_the_whole_roster_filtered(clinic: Clinic, data: st.DataObject) -> None:
    f = data.draw(filters(clinic.providers))
    size = data.draw(st.integers(1, 40))
    expected = oracle(clinic.everyone, f)
    pages = max(1, -(-len(expected) // size))
    number = data.draw(st.integers(1, pages + 1))
    got = roster_page(clinic.db, clinic.settings, TODAY, f, page=number, page_size=size)
    shown = min(number, pages)
    assert got.matching == len(expected)
    assert got.total == len(clinic.everyone)
    assert (got.page, got.pages) == (shown, pages)
    assert list(got.rows) == expected[(shown - 1) * size : shown * size]
    assert list(got.providers) == clinic.providers
    assert roster(clinic.db, clinic.settings, TODAY, filters=f) == expected


def test_search_folds_case_beyond_ascii_and_takes_wildcards_literally(db: Database) -> None:
    with db.write() as s:
        seed_patient(s, "MRN-ÆØ-1", "Ærøskøbing", "Ölund")
        seed_patient(s, "MRN-50%-2", "Per", "Cent")
        seed_patient(s, "MRN-X_Y-3", "Under", "Score")
        seed_patient(s, "MRN-PLAIN-4", "Plain", "Name")
    today = date(2026, 12, 1)

    def names(search: str) -> list[str]:
        page = roster_page(db, load_settings_of(db), today, RosterFilters(search=search))
        return [r.mrn for r in page.rows]

    assert names("ölund") == ["MRN-ÆØ-1"]
    assert names("ÆRØSKØBING") == ["MRN-ÆØ-1"]
    assert names("50%") == ["MRN-50%-2"]
    assert names("%") == ["MRN-50%-2"]
    assert names("x_y") == ["MRN-X_Y-3"]
    assert names("_") == ["MRN-X_Y-3"]


def load_settings_of(db: Database) -> ClinicPolicy:
    with db.read() as s:
        return load_policy(s)


def test_empty_clinic_gives_an_empty_first_page(db: Database) -> None:
    page = roster_page(db, load_settings_of(db), date(2026, 12, 1), page=3)
    assert (page.rows, page.matching, page.total, page.page, page.pages) == ((), 0, 0, 1, 1)
