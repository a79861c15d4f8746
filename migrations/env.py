"""Alembic environment: runs against the engine the application hands over, or the one
PROACTIVE_DATABASE_URL names. render_as_batch lets ALTERs work on SQLite too."""

from alembic import context

from proactive.db import make_engine
from proactive.models import Base
from proactive.settings import Settings

config = context.config
engine = config.attributes.get("engine") or make_engine(Settings.from_env().database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    context.run_migrations()
