"""add method source and extension note: a method headatlas adds beside the survey's tables says so, and why

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("method", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(), nullable=False, server_default="survey-table"))
        batch_op.add_column(sa.Column("extension_note", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("method", schema=None) as batch_op:
        batch_op.drop_column("extension_note")
        batch_op.drop_column("source")
