"""ingest runs numbered in commit order, for the nightly run's watermark

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_runs") as batch:
        batch.add_column(sa.Column("commit_seq", sa.Integer(), nullable=True))
        batch.create_unique_constraint(batch.f("uq_ingest_runs_commit_seq"), ["commit_seq"])
    # every run stored is committed; the runs' watermarks were ingest ids, so seq = id keeps them
    op.execute("UPDATE ingest_runs SET commit_seq = id")


def downgrade() -> None:
    with op.batch_alter_table("ingest_runs") as batch:
        batch.drop_constraint(batch.f("uq_ingest_runs_commit_seq"), type_="unique")
        batch.drop_column("commit_seq")
