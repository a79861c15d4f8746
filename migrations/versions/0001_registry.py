"""registry tables

Revision ID: 0001
Revises:
Create Date: 2026-11-25 03:56:33.124663
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "households",
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("changed_run_id", sa.Integer(), nullable=False),
        sa.Column("changed_fields", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_households")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_households_changed_run_id"), ["changed_run_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_households_division_code"), ["division_code"], unique=False
        )

    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_runs")),
    )
    op.create_table(
        "persons",
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("hukou_status", sa.String(length=16), nullable=False),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(), nullable=False),
        sa.Column("review_flags", sa.Text(), nullable=False),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("changed_run_id", sa.Integer(), nullable=False),
        sa.Column("changed_fields", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id_number", name=op.f("pk_persons")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persons_birth_date"), ["birth_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_persons_changed_run_id"), ["changed_run_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_persons_household_id"), ["household_id"], unique=False)

    op.create_table(
        "residence_permits",
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(), nullable=False),
        sa.Column("review_flags", sa.Text(), nullable=False),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("changed_run_id", sa.Integer(), nullable=False),
        sa.Column("changed_fields", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id_number", name=op.f("pk_residence_permits")),
    )
    with op.batch_alter_table("residence_permits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residence_permits_birth_date"), ["birth_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_residence_permits_changed_run_id"), ["changed_run_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_residence_permits_division_code"), ["division_code"], unique=False
        )

    op.create_table(
        "sites",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("daily_capacity", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("changed_run_id", sa.Integer(), nullable=False),
        sa.Column("changed_fields", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_sites")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sites_changed_run_id"), ["changed_run_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sites_division_code"), ["division_code"], unique=False)

    op.create_table(
        "window_certificates",
        sa.Column("certificate_no", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("program", sa.String(length=64), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("changed_run_id", sa.Integer(), nullable=False),
        sa.Column("changed_fields", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("certificate_no", name=op.f("pk_window_certificates")),
    )
    with op.batch_alter_table("window_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_window_certificates_changed_run_id"), ["changed_run_id"], unique=False
        )
        batch_op.create_index(
            "ix_window_certificates_person_program", ["id_number", "program"], unique=False
        )

    op.create_table(
        "loaded_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ingest_runs.id"], name=op.f("fk_loaded_files_run_id_ingest_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loaded_files")),
    )
    with op.batch_alter_table("loaded_files", schema=None) as batch_op:
        batch_op.create_index("ix_loaded_files_table_id", ["table_name", "id"], unique=False)

    op.create_table(
        "row_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=False),
        sa.Column("reason_zh", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ingest_runs.id"], name=op.f("fk_row_issues_run_id_ingest_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_row_issues")),
    )
    with op.batch_alter_table("row_issues", schema=None) as batch_op:
        batch_op.create_index("ix_row_issues_run_severity", ["run_id", "severity"], unique=False)

    op.create_table(
        "social_workers",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("changed_run_id", sa.Integer(), nullable=False),
        sa.Column("changed_fields", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.site_id"], name=op.f("fk_social_workers_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_social_workers")),
    )
    with op.batch_alter_table("social_workers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_social_workers_changed_run_id"), ["changed_run_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_social_workers_site_id"), ["site_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("social_workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_workers_site_id"))
        batch_op.drop_index(batch_op.f("ix_social_workers_changed_run_id"))

    op.drop_table("social_workers")
    with op.batch_alter_table("row_issues", schema=None) as batch_op:
        batch_op.drop_index("ix_row_issues_run_severity")

    op.drop_table("row_issues")
    with op.batch_alter_table("loaded_files", schema=None) as batch_op:
        batch_op.drop_index("ix_loaded_files_table_id")

    op.drop_table("loaded_files")
    with op.batch_alter_table("window_certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_window_certificates_person_program")
        batch_op.drop_index(batch_op.f("ix_window_certificates_changed_run_id"))

    op.drop_table("window_certificates")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sites_division_code"))
        batch_op.drop_index(batch_op.f("ix_sites_changed_run_id"))

    op.drop_table("sites")
    with op.batch_alter_table("residence_permits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residence_permits_division_code"))
        batch_op.drop_index(batch_op.f("ix_residence_permits_changed_run_id"))
        batch_op.drop_index(batch_op.f("ix_residence_permits_birth_date"))

    op.drop_table("residence_permits")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_household_id"))
        batch_op.drop_index(batch_op.f("ix_persons_changed_run_id"))
        batch_op.drop_index(batch_op.f("ix_persons_birth_date"))

    op.drop_table("persons")
    op.drop_table("ingest_runs")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_households_division_code"))
        batch_op.drop_index(batch_op.f("ix_households_changed_run_id"))

    op.drop_table("households")
