"""kdash: navigation and the login gate. Pages live in ``pages/``; their logic lives in ``kdash``."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from kdash import ui
from kdash.domain.access import Action

HERE = Path(__file__).parent


def _page(file: str, title: str, icon: str, *, default: bool = False) -> st.Page:
    return st.Page(HERE / "pages" / file, title=title, icon=icon, default=default, url_path=Path(file).stem)


def _pages() -> list[tuple[str, st.Page, Action]]:
    """(section, page, the action a user needs to see it in the menu; each page checks it again itself)."""
    return [
        (
            "Today",
            _page("huddle.py", "Morning huddle", ":material/groups:", default=True),
            Action.VIEW_CLINICAL,
        ),
        ("Patients", _page("roster.py", "Roster", ":material/patient_list:"), Action.VIEW_CLINICAL),
        ("Patients", _page("patient.py", "Patient", ":material/person:"), Action.VIEW_CLINICAL),
        ("Patients", _page("screening.py", "Screening", ":material/checklist:"), Action.VIEW_CLINICAL),
        ("Patients", _page("courses.py", "Courses", ":material/timeline:"), Action.VIEW_CLINICAL),
        ("Patients", _page("trends.py", "Symptom trends", ":material/monitoring:"), Action.VIEW_CLINICAL),
        ("Planning", _page("planner.py", "What-if planner", ":material/event_available:"), Action.PLAN),
        ("Admin", _page("data.py", "Import / export", ":material/swap_vert:"), Action.EXPORT),
        ("Admin", _page("audit.py", "Audit log", ":material/policy:"), Action.VIEW_AUDIT),
        ("Admin", _page("users.py", "Users", ":material/manage_accounts:"), Action.MANAGE_USERS),
        ("Admin", _page("settings.py", "Clinic settings", ":material/tune:"), Action.VIEW_CLINICAL),
    ]


def main() -> None:
    """One run of the app for one browser tab: the login gate, then the menu the user's role allows."""
    # The tab icon is a file of the repository (assets/, drawn for kdash): a ":material/…:" page icon
    # makes the browser fetch the icon from Google's font server, outside the clinic (tests/browser).
    st.set_page_config(page_title="kdash", page_icon=str(HERE / "assets" / "kdash-icon.png"), layout="wide")
    pages = _pages()
    actor = ui.current_actor()
    ui.audit_alarm(actor)
    if actor is None:
        # Register every page but show none: a deep link keeps its URL (and its ?mrn=) and lands on the
        # login form; after sign-in the same run lands on that page.
        st.navigation([page for _, page, _ in pages], position="hidden")
        ui.first_run_view()
        ui.login_view()
        st.stop()
    assert actor is not None

    sections: dict[str, list[st.Page]] = {}
    for section, page, action in pages:
        if actor.can(action):
            sections.setdefault(section, []).append(page)
    navigation = st.navigation(sections)
    ui.sidebar(actor)
    ui.demo_clinic_offer(actor)
    ui.session_keeper()
    navigation.run()


if __name__ == "__main__":
    # Streamlit runs this file as ``__main__`` for every browser tab.
    main()
else:
    # Imported once per server: ``streamlit run app.py`` finds ``app`` below and serves it (so does
    # ``uvicorn app:app``). The server is Streamlit's own, with kdash's session-cookie routes beside it.
    ui.serve_navigation_only()
    app = st.App(HERE / "app.py", routes=ui.session_routes())
