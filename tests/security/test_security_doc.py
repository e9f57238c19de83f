"""docs/security.md's table of roles and actions is the one kdash.domain.access enforces."""

from __future__ import annotations

from pathlib import Path

from kdash.domain.access import PERMISSIONS, ROLE_LABELS, Action
from kdash.domain.vocab import Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def role_table() -> str:
    """The table as docs/security.md prints it: one row per action, one column per role."""
    roles = list(Role)
    lines = [
        "| Action | " + " | ".join(ROLE_LABELS[r] for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action in Action:
        cells = ("yes" if action in PERMISSIONS[r] else "—" for r in roles)
        lines.append(f"| `{action.value}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_the_role_table_here_is_the_one_in_the_code() -> None:
    assert role_table() in DOC.read_text(encoding="utf-8"), (
        "docs/security.md's role table differs from kdash.domain.access; paste:\n" + role_table()
    )
