"""add resampled evidence: a run's seeds, its statistics and causal confirmation; per verdict an interval, pass rate and p-values

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seeds", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("confirmation", sa.JSON(), nullable=True))
    with op.batch_alter_table("verdict", schema=None) as batch_op:
        for column in ("score_low", "score_high", "pass_rate", "p_value", "q_value"):
            batch_op.add_column(sa.Column(column, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verdict", schema=None) as batch_op:
        for column in ("q_value", "p_value", "pass_rate", "score_high", "score_low"):
            batch_op.drop_column(column)
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("confirmation")
        batch_op.drop_column("evidence")
        batch_op.drop_column("seeds")
