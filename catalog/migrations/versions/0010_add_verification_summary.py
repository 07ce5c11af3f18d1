"""add verification_summary, paper.match_text, and indexes on paper.year and verification_request.status

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 21:00:00

The new table and column hold data derived from rows already stored; catalog.db.upgrade fills them after
migrating a catalog from an earlier revision (catalog.derived), with the code of the revision it ends at.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "verification_summary",
        sa.Column("head_type_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["head_type_id"], ["head_type.id"]),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"]),
        sa.PrimaryKeyConstraint("head_type_id", "model_id"),
    )
    op.create_index("ix_verification_summary_model_id", "verification_summary", ["model_id"])
    op.add_column("paper", sa.Column("match_text", TEXT(), nullable=False, server_default=""))
    op.create_index("ix_paper_year", "paper", ["year"])
    op.create_index("ix_verification_request_status", "verification_request", ["status"])


def downgrade() -> None:
    op.drop_index("ix_verification_request_status", table_name="verification_request")
    op.drop_index("ix_paper_year", table_name="paper")
    op.execute("ALTER TABLE paper DROP COLUMN match_text")  # in place: a SQLite rebuild would break references
    op.drop_table("verification_summary")
