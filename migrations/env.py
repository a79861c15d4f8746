"""Alembic environment: runs against the engine the application hands over, or the one
PROACTIVE_DATABASE_URL names. render_as_batch lets ALTERs work on SQLite too, with foreign
keys off while it recreates a table that other rows refer to (SQLite's documented procedure)."""

from alembic import context

from proactive.db import make_engine
from proactive.models import Base
from proactive.settings import Settings

config = context.config
engine = config.attributes.get("engine") or make_engine(Settings.from_env().database_url)

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # batch mode copies and drops a table: rows elsewhere may refer to it
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
        connection.commit()
    with connection.begin():
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            compare_type=True,
        )
        context.run_migrations()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
