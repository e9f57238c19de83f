"""The what-if planner's words: dates, counts, what each field says about the value typed, and the
comparison table's rows. Plain functions (no widgets), tested as such."""

from __future__ import annotations

from datetime import date
from typing import Any

from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE
from kdash.planner.plan import Plan, compare
from kdash.services.planning_view import CourseState, PatientChoice


def when_day(d: date | None) -> str:
    return f"{d:%a} {d.isoformat()}" if d else "—"


def infusions_word(count: int) -> str:
    return f"{count} infusion" + ("" if count == 1 else "s")


def covers_text(plan: Plan) -> str:
    """Whether the benefit window reaches the target: a word and an icon, colour only as a third cue."""
    if plan.target is None:
        return "No target date set."
    if plan.covers_target:
        return f":green[:material/check_circle: **Covers** the target {when_day(plan.target)}]"
    return f":red[:material/cancel: **Does not cover** the target {when_day(plan.target)}]"


def patient_options(
    query: str, matches: list[PatientChoice], current: PatientChoice | None
) -> tuple[list[PatientChoice], int]:
    """The patients the select offers and which one it shows, for what was typed.

    A search shows only its matches: the patient chosen before is offered again only if the search
    matches them too, so typing another patient's MRN can never leave the previous one selected. An
    exact MRN wins over the patient chosen before; an empty search offers the patient chosen before.
    """
    wanted = query.strip().lower()
    if not wanted:
        return ([current], 0) if current is not None else ([], 0)
    options = list(matches)
    exact = [i for i, p in enumerate(options) if p.mrn.lower() == wanted]
    if exact:
        return options, exact[0]
    if current is not None and current in options:
        return options, options.index(current)
    return options, 0


def sessions_note(asked: int | None, rest: int, live: int) -> tuple[int | None, str | None]:
    """The number of sessions to plan, and what to say beside the field about it.

    Empty asks for the rest of the course (``rest``) whatever the cadence. A number above what the
    course can still take is capped at ``rest`` (ten per course, docs/clinical-reference.md) and said;
    below one is refused (None: nothing is planned).
    """
    if asked is None:
        return rest, None
    if asked < 1:
        return None, "Refused: at least 1 session. Nothing is planned."
    if asked > rest:
        return rest, (
            f"Capped at {rest}: a course holds at most {MAX_INFUSIONS_PER_COURSE} infusions and this "
            f"one has {live} done or booked. Planning {rest}, not {asked}."
        )
    return asked, None


def start_note(asked: date, state: CourseState) -> tuple[date, str | None]:
    """The day the plan really starts, and what to say beside the date when it is not the one chosen."""
    earliest = state.earliest_start
    if earliest is None or asked >= earliest:
        return asked, None
    return earliest, (
        f"Starts {when_day(earliest)}, the day after the course's last infusion done or booked "
        f"(not {when_day(asked)})."
    )


def cover_note(cover_until: date | None, starts: date) -> tuple[date | None, str | None]:
    """The target to judge the benefit window against, or a refusal beside the field when it is
    before the plan starts (a window that ends after the start would otherwise 'cover' it)."""
    if cover_until is None or cover_until >= starts:
        return cover_until, None
    return (
        None,
        f"Refused: {when_day(cover_until)} is before the plan starts ({when_day(starts)}). "
        "No target is used.",
    )


def compare_rows(plans: list[Plan]) -> list[dict[str, Any]]:
    """compare()'s rows with dates in words and the target as a word and a mark."""
    rows = []
    for plan, row in zip(plans, compare(plans), strict=True):
        covers = row["covers_target"]
        rows.append(
            {
                "scenario": row["scenario"],
                "bookable": "yes" if plan.allowed and plan.slots else "no",
                "sessions": row["sessions"],
                "first": row["first"].strftime("%a %Y-%m-%d %H:%M") if row["first"] else "—",
                "last": row["last"].strftime("%a %Y-%m-%d %H:%M") if row["last"] else "—",
                "course end": when_day(row["course_end"]),
                "benefit until": when_day(row["benefit_until"]),
                "covers target": "—" if covers is None else ("✔ yes" if covers else "✘ no"),
                "moves": row["moves"],
                "warnings or why refused": "; ".join(row["warnings"]),
            }
        )
    return rows
