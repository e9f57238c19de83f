"""Every clinical page on the synthetic demo clinic (kdash.demo): renders, and its controls narrow it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kdash.demo import clinic as demo
from kdash.domain.access import Actor
from kdash.domain.vocab import Role
from tests.apptest_support import make_app_db

PAGES = Path(__file__).resolve().parents[2] / "pages"
PROVIDER = Actor("provider", Role.PROVIDER, "Dr A. Demo")
CLINICAL_PAGES = ("huddle.py", "roster.py", "patient.py", "screening.py", "courses.py", "trends.py")


@pytest.fixture(scope="module")
def demo_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[demo.DemoData]:
    """A 150-patient demo clinic around today, loaded once for the module (the tests only read)."""
    data = demo.generate(150, 7, date.today())
    mp = pytest.MonkeyPatch()
    for _ in make_app_db(
        tmp_path_factory.mktemp("demo"), mp, users=False, fill=lambda db: demo.load(db, data)
    ):
        yield data
    mp.undo()


def run(name: str, **state: object) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=30)
    at.session_state["kdash_actor"] = PROVIDER
    at.session_state["kdash_last_activity"] = time.time()
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def text_of(at: AppTest) -> str:
    kinds = ("markdown", "caption", "title", "subheader", "info", "error", "success")
    return "\n".join(str(el.value).replace("\\", "") for kind in kinds for el in getattr(at, kind))


@pytest.mark.parametrize("name", CLINICAL_PAGES)
def test_page_renders_on_demo_clinic(demo_clinic: demo.DemoData, name: str) -> None:
    some_patient = next(iter(demo_clinic.scenarios))
    at = run(name, patient_id=some_patient)
    assert not at.exception, name


def test_huddle_of_the_schedule_day_lists_its_patients(demo_clinic: demo.DemoData) -> None:
    at = run("huddle.py")
    at.date_input(key="huddle_day").set_value(demo_clinic.schedule_day).run()
    assert not at.exception
    body = text_of(at)
    assert f" · {len(demo_clinic.live_on(demo_clinic.schedule_day))} infusions · " in body
    assert "Urgent: Suicide risk" in body
    assert "Urgent: Blood pressure crisis" in body


def test_roster_filter_by_indication_narrows(demo_clinic: demo.DemoData) -> None:
    at = run("roster.py")
    everyone = len(at.dataframe[0].value)
    at.multiselect(key="roster_indication").set_value(["crps"]).run()
    crps = at.dataframe[0].value
    assert 0 < len(crps) < everyone
    assert set(crps["Indication"]) == {"CRPS"}
    at.toggle(key="roster_urgent").set_value(True).run()
    assert not at.exception


def test_patient_page_for_each_scenario_renders(demo_clinic: demo.DemoData) -> None:
    seen: set[str] = set()
    for pid, scenario in demo_clinic.scenarios.items():
        if scenario in seen:
            continue
        seen.add(scenario)
        at = run("patient.py", patient_id=pid)
        assert not at.exception, scenario
