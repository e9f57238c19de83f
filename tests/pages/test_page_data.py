"""The import / export page (AppTest): export works for the roles that may, others are refused."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kdash.demo.clinic import generate, load
from kdash.domain.access import Actor
from kdash.domain.vocab import Role
from tests.apptest_support import make_app_db

PAGE = "../../pages/data.py"


@pytest.fixture
def demo_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    demo = generate(30, 3, date(2026, 11, 24))
    for db in make_app_db(tmp_path, monkeypatch, users=False, fill=lambda db: load(db, demo)):
        yield db.url


def _app(role: Role) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["kdash_actor"] = Actor("u1", role, "User One")
    at.session_state["kdash_last_activity"] = time.time()
    return at


def test_admin_exports_csv_zip_with_every_file(demo_url: str) -> None:
    at = _app(Role.ADMIN).run()
    assert not at.exception
    at.button(key="export_prepare").click().run()
    assert not at.exception
    name, data, _mime, counts = at.session_state["export_payload"]
    assert name == "kdash-export.zip"
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert names == {"patients.csv", "screenings.csv", "courses.csv", "infusions.csv", "assessments.csv"}
    assert counts["patients.csv"] == 30


def test_fhir_export_is_a_bundle(demo_url: str) -> None:
    at = _app(Role.PROVIDER).run()
    at.radio(key="export_format").set_value("FHIR R4 Bundle (JSON)").run()
    at.button(key="export_prepare").click().run()
    name, data, _, _ = at.session_state["export_payload"]
    assert name == "kdash-bundle.json"
    assert b'"resourceType": "Bundle"' in data or b'"resourceType":"Bundle"' in data


def test_import_section_hidden_without_import_permission_and_page_refused_for_nurse(demo_url: str) -> None:
    at = _app(Role.NURSE).run()
    assert not at.exception
    assert any("may not export" in e.value for e in at.error)
    assert not at.button


def test_uploader_offered_to_provider_with_next_step(demo_url: str) -> None:
    at = _app(Role.PROVIDER).run()
    assert any("Choose the files to import" in i.value for i in at.info)


def _export_zip(at: AppTest) -> bytes:
    at.button(key="export_prepare").click().run()
    _name, data, _mime, _counts = at.session_state["export_payload"]
    return bytes(data)


def test_the_export_zip_reimports_and_says_nothing_changed(demo_url: str) -> None:
    at = _app(Role.PROVIDER).run()
    data = _export_zip(at)
    at.file_uploader(key="import_files").set_value(("kdash-export.zip", data, "application/zip")).run()
    assert not at.error
    at.button(key="import_run").click().run()
    assert not at.exception
    assert not at.error
    assert any("Nothing changed" in i.value for i in at.info)
    assert not at.success
    assert any("patients.csv: 0 created, 0 updated, 30 unchanged" in str(m.value) for m in at.markdown)


def test_a_changed_export_zip_says_what_was_written(demo_url: str) -> None:
    at = _app(Role.PROVIDER).run()
    data = _export_zip(at)
    archive = zipfile.ZipFile(io.BytesIO(data))
    members = {n: archive.read(n) for n in archive.namelist()}
    lines = members["patients.csv"].decode().splitlines()
    header, first = lines[0].split(","), lines[1].split(",")
    first[header.index("provider")] = "Dr Changed"
    members["patients.csv"] = "\n".join([lines[0], ",".join(first), *lines[2:]]).encode() + b"\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, content in members.items():
            out.writestr(name, content)
    at.file_uploader(key="import_files").set_value(
        ("changed.zip", buffer.getvalue(), "application/zip")
    ).run()
    at.button(key="import_run").click().run()
    assert not at.exception
    assert any("These records were written" in s.value for s in at.success)
    assert any("patients.csv: 0 created, 1 updated, 29 unchanged" in str(m.value) for m in at.markdown)


def test_a_zip_with_a_path_outside_the_folder_is_refused_in_words(demo_url: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("../patients.csv", "mrn\n")
    at = _app(Role.PROVIDER).run()
    at.file_uploader(key="import_files").set_value(("bad.zip", buffer.getvalue(), "application/zip")).run()
    at.button(key="import_check").click().run()
    assert not at.exception
    assert any("nothing was written" in e.value for e in at.error)
    problems = at.dataframe[0].value
    assert "points outside the folder" in problems["what is wrong"].iloc[0]
