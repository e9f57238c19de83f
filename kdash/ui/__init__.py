"""The small Streamlit layer every page shares: the page guard, login, logoff, badges, the database.

This is the only package of ``kdash`` that imports Streamlit, so the CLI, the tests of the rules and
the benchmark never load the UI. Pages write ``ui.guard()``, ``ui.get_db()``, ``ui.md_escape(...)``;
the names below come from:

- :mod:`kdash.ui.resources`: the database handle, clinic settings, the page caches;
- :mod:`kdash.ui.markup`: Markdown escaping and severity badges;
- :mod:`kdash.ui.signin`: the page guard, login form, single sign-on, sign-out, idle logoff;
- :mod:`kdash.ui.shell`: sidebar, first-run and demo offers, start-up navigation, audit alarm;
- :mod:`kdash.ui.links`: addresses of and links to patients and the planner.

Every page's first line is :func:`guard`: Streamlit runs a file in ``pages/`` directly on a freshly
started server (its legacy multipage mode) until some session has run ``st.navigation``, so the login
gate in ``app.py`` alone would let a deep link through.
"""

from kdash.ui.links import (
    patient_address,
    patient_link,
    patient_link_column,
    planner_address,
    show_patient_link,
)
from kdash.ui.markup import SEVERITY_STYLE, md_escape, severity_badge
from kdash.ui.resources import clear_caches, drop_stale_caches, get_db, settings

# Binds the function over the module of the same name: app.py calls ``ui.session_routes()``.
from kdash.ui.session_routes import session_routes
from kdash.ui.shell import (
    audit_alarm,
    demo_clinic_offer,
    first_run_view,
    serve_navigation_only,
    sidebar,
)
from kdash.ui.signin import (
    current_actor,
    guard,
    idle_check_seconds,
    login_view,
    logout,
    role_label,
    session_keeper,
    sign_in,
)

__all__ = [
    "SEVERITY_STYLE",
    "audit_alarm",
    "clear_caches",
    "current_actor",
    "demo_clinic_offer",
    "drop_stale_caches",
    "first_run_view",
    "get_db",
    "guard",
    "idle_check_seconds",
    "login_view",
    "logout",
    "md_escape",
    "patient_address",
    "patient_link",
    "patient_link_column",
    "planner_address",
    "role_label",
    "serve_navigation_only",
    "session_keeper",
    "session_routes",
    "settings",
    "severity_badge",
    "show_patient_link",
    "sidebar",
    "sign_in",
]
