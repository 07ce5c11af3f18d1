"""add attention_example and run_attention: one prompt of a run's probe and every head's attention on it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "attention_example",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("digest", TEXT(), nullable=False),
        sa.Column("tokens", sa.JSON(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("prompt_length", sa.Integer(), nullable=False),
        sa.Column("weights", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "digest"),
    )
    with op.batch_alter_table("attention_example", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attention_example_model_id"), ["model_id"], unique=False)
    op.create_table(
        "run_attention",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("attention_example_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"]),
        sa.ForeignKeyConstraint(["attention_example_id"], ["attention_example.id"]),
        sa.PrimaryKeyConstraint("run_id"),
    )
    with op.batch_alter_table("run_attention", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_attention_attention_example_id"), ["attention_example_id"])


def downgrade() -> None:
    op.drop_table("run_attention")
    op.drop_table("attention_example")
