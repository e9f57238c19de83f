"""Alembic environment: always run with a connection handed over by :mod:`kdash.storage.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from kdash.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    from kdash.storage.database import get_engine

    with get_engine().begin() as conn:
        run_with(conn)
else:
    run_with(connection)
