"""Deployment hardening that lives in files: Streamlit's config, ignored secrets, versions, page guards.

``pip-audit`` cannot reach vulnerability data from the build machine (it reports every package as
"not found" and still says "no known vulnerabilities"), so it is a release step on a networked machine
(docs/security.md); here the minimum versions that the known advisories require are asserted instead.
"""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.version import Version

from tests.apptest_support import app_page_files

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "pages").glob("*.py"))

#: Streamlit releases that fixed published advisories (path traversal, a weak cache hash, SSRF on
#: Windows); kdash needs the newest of them.
STREAMLIT_ADVISORY_FIXES = (Version("1.37.0"), Version("1.53.1"), Version("1.54.0"))


def _config() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_error_details_are_hidden_from_the_browser() -> None:
    """A traceback can carry patient data: the browser gets a generic message, the server log the rest."""
    assert _config()["client"]["showErrorDetails"] == "none"


def test_xsrf_protection_is_on() -> None:
    assert _config()["server"]["enableXsrfProtection"] is True


def test_no_usage_statistics_and_no_deploy_button() -> None:
    config = _config()
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["toolbarMode"] == "viewer"


def test_no_cookie_secret_or_credentials_in_the_committed_config() -> None:
    text = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert not re.search(r"(?im)^\s*(cookieSecret|client_secret|password)\s*=", text)


def test_secrets_file_is_ignored_by_git() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".streamlit/secrets.toml" in [line.strip() for line in ignored]


def _pinned(package: str) -> Version:
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(rf"(?i)^{re.escape(package)}(\[[^\]]*\])?==([\w.]+)", line.strip())
        if m:
            return Version(m.group(2))
    raise AssertionError(f"{package} is not pinned with == in requirements.txt")


def test_streamlit_pin_and_install_include_every_advisory_fix() -> None:
    needed = max(STREAMLIT_ADVISORY_FIXES)
    assert needed == Version("1.54.0")
    assert _pinned("streamlit") >= needed
    assert Version(version("streamlit")) >= needed


def test_installed_versions_match_the_pins() -> None:
    """What the tests ran against is what a deployment installs."""
    for package in ("streamlit", "SQLAlchemy", "argon2-cffi", "alembic"):
        assert Version(version(package)) == _pinned(package), package


def _first_statement_after_imports(tree: ast.Module) -> ast.stmt | None:
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            continue  # the docstring
        return node
    return None


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_page_starts_with_the_guard(page: Path) -> None:
    """Streamlit may run a page file directly (legacy multipage mode on a fresh server): it guards itself."""
    first = _first_statement_after_imports(ast.parse(page.read_text(encoding="utf-8")))
    assert first is not None
    call = first.value if isinstance(first, ast.Assign | ast.Expr) else None
    assert isinstance(call, ast.Call), f"{page.name}: the first statement is not ui.guard(...)"
    func = call.func
    assert isinstance(func, ast.Attribute)
    assert func.attr == "guard"
    assert isinstance(func.value, ast.Name)
    assert func.value.id == "ui"


def test_every_page_named_in_app_exists() -> None:
    """The navigation names only page files that are there: a missing one would break the menu."""
    named = app_page_files()
    assert len(named) >= 5
    missing = [name for name in named if not (ROOT / "pages" / name).is_file()]
    assert missing == [], f"app.py names pages that do not exist: {missing}"


def test_every_test_named_in_the_security_document_exists() -> None:
    """docs/security.md maps each HIPAA safeguard to tests by name: a renamed test must not go stale."""
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", doc))
    assert len(named) >= 30
    missing = []
    for path, name in sorted(named):
        source = (ROOT / path).read_text(encoding="utf-8") if (ROOT / path).exists() else ""
        if not re.search(rf"^(def {name}\(|class {name}\b|{name} = )", source, re.MULTILINE):
            missing.append(f"{path}::{name}")
    assert not missing, missing
