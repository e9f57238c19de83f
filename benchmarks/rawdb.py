"""A bare DB-API connection (sqlite3 or psycopg) for the hand-written "limit" queries.

No SQLAlchemy, no ORM, no type processing: the limit is what the driver alone can do, so kdash's cost
over it is the cost of everything kdash adds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import make_url


class RawDb:
    """One open driver connection; ``rows`` runs a query written with ``?`` placeholders."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            self.conn: Any = sqlite3.connect(parsed.database or ":memory:", check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
        elif self.dialect == "postgresql":
            import psycopg
            from psycopg.rows import dict_row

            options = parsed.query.get("options")
            self.conn = psycopg.connect(
                host=parsed.host or "127.0.0.1",
                port=parsed.port or 5432,
                user=parsed.username,
                password=parsed.password,
                dbname=parsed.database,
                options=options if isinstance(options, str) else None,
                row_factory=dict_row,
                autocommit=True,
            )
        else:
            raise ValueError(f"no raw driver for {self.dialect}")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        cur = self.conn.execute(sql, params)
        return cur.fetchall()  # type: ignore[no-any-return]

    def in_ids(self, column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
        """``column IN (…)`` as SQL and parameters: an array parameter on PostgreSQL, a list on SQLite."""
        if self.dialect == "postgresql":
            return f"{column} = ANY(?)", [list(ids)]
        if not ids:
            return "1 = 0", []
        return f"{column} IN ({','.join('?' * len(ids))})", list(ids)

    def close(self) -> None:
        self.conn.close()
