"""One patient search: MRN, "Last, First", "First Last" and parts, the same in SQL and in Python."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdash.services.search import matches, parse_search, search_patients
from kdash.storage.database import Database
from tests.seeded import seed_patient

# Names as clinics hold them: accents, apostrophes, hyphens, particles, several words; no commas.
NAME = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzÀÉÎÕÜßçøñ'-ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    min_size=1,
    max_size=12,
)
NAMES = st.lists(NAME, min_size=1, max_size=3).map(" ".join)
MRN = st.from_regex(r"[A-Z]{1,4}-?[0-9]{3,6}", fullmatch=True)


def shapes(last: str, first: str, mrn: str) -> list[str]:
    """Every way staff type a patient: the shown form, the spoken form, an MRN, parts of each."""
    typed = [
        f"{last}, {first}",
        f"{last},{first}",
        f"{first} {last}",
        f"{last} {first}",
        last,
        first,
        last[: max(1, len(last) // 2)],
        f"{last[:2]}, {first[:1]}",
        f"{last},",
        mrn,
        mrn.lower(),
        mrn[-3:],
    ]
    if last.upper().lower() == last.lower():  # "ß" upper-cases to "SS": nobody types it back that way
        typed.append(f"  {last.upper()} ,  {first.lower()} ")
    return typed


@given(last=NAMES, first=NAMES, mrn=MRN)
def test_every_shape_of_a_patients_name_finds_them(last: str, first: str, mrn: str) -> None:
    for text in shapes(last, first, mrn):
        assert matches(text, last, first, mrn), text


@given(last=NAMES, first=NAMES, mrn=MRN)
def test_last_first_needs_each_part_in_its_own_field(last: str, first: str, mrn: str) -> None:
    # "Last, First" reads the parts as written: the first name typed where the last name goes does not
    # match unless it is also part of the last name.
    swapped = f"{first}, {last}"
    expected = first.lower() in last.lower() and last.lower() in first.lower()
    assert matches(swapped, last, first, mrn) == expected


def test_parse_reads_a_comma_as_last_first_and_words_otherwise() -> None:
    assert parse_search("  Ellery ,  Sam ") == parse_search("ellery, sam")
    q = parse_search("Ellery, Sam")
    assert (q.comma, q.last, q.first) == (True, "ellery", "sam")
    assert parse_search("Sam  Ellery").words == ("sam", "ellery")
    assert parse_search("   ").empty


def test_a_word_in_no_field_finds_nobody() -> None:
    assert not matches("Sam Brook", "Ellery", "Sam", "D0005")
    assert not matches("Brook, Sam", "Ellery", "Sam", "D0005")
    assert not matches("D0006", "Ellery", "Sam", "D0005")


@pytest.fixture
def people(db: Database) -> Database:
    with db.write() as session:
        seed_patient(session, "D0005", first="Sam", last="Ellery")
        seed_patient(session, "D0006", first="Samantha", last="Brook")
        seed_patient(session, "D0050", first="Zoë", last="O'Neil-Ørsted")
        seed_patient(session, "X100%", first="Per_cent", last="Wild")
    return db


SEARCHES = [
    ("D0005", ["D0005"]),
    ("d0005", ["D0005"]),
    ("0005", ["D0005"]),
    ("Ellery, Sam", ["D0005"]),
    ("ellery,sam", ["D0005"]),
    ("Sam Ellery", ["D0005"]),
    ("ell", ["D0005"]),
    ("Ell, S", ["D0005"]),
    ("sam", ["D0006", "D0005"]),  # Brook, Samantha and Ellery, Sam: by name
    ("Brook, Sam", ["D0006"]),
    ("Sam Brook", ["D0006"]),
    ("o'neil-ørsted, zoë", ["D0050"]),
    ("ZOË O'NEIL", ["D0050"]),
    ("100%", ["X100%"]),  # % and _ are text, not wildcards
    ("per_", ["X100%"]),
    ("%", ["X100%"]),
    ("Sam Nobody", []),
    ("", []),
]


def test_the_database_finds_what_the_rule_says(people: Database) -> None:
    for text, found in SEARCHES:
        assert [h.mrn for h in search_patients(people, text)] == found, text


def test_an_exact_mrn_comes_first(db: Database) -> None:
    with db.write() as session:
        seed_patient(session, "D00051", first="Al", last="Able")
        seed_patient(session, "D0005", first="Zed", last="Zulu")
    assert [h.mrn for h in search_patients(db, "D0005")] == ["D0005", "D00051"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(last=NAMES, first=NAMES, text=st.sampled_from(["a", "É", "ß", "o'", "-", "ø", "A, B", "b a", ","]))
def test_sql_and_python_agree_on_any_name(sqlite_db: Database, last: str, first: str, text: str) -> None:
    with sqlite_db.write() as session:
        pid, _ = seed_patient(
            session, f"H{abs(hash((last, first))) % 10**8}", first=first, last=last, course=False
        )
    try:
        hit = any(h.patient_id == pid for h in search_patients(sqlite_db, text, limit=10_000))
        expected = matches(text, last, first, "H") and not parse_search(text).empty
        assert hit == expected, (text, last, first)
    finally:
        from kdash.storage.models import Patient

        with sqlite_db.write() as session:
            session.delete(session.get(Patient, pid))
