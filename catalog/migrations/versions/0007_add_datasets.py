"""add dataset, dataset_list and dataset_head: published head lists, each head in its list's own unit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", TEXT(), nullable=False),
        sa.Column("name", TEXT(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("repository", TEXT(), nullable=False),
        sa.Column("source_commit", TEXT(), nullable=False),
        sa.Column("licence_spdx", TEXT(), nullable=True),
        sa.Column("licence_note", TEXT(), nullable=False),
        sa.Column("format", TEXT(), nullable=False),
        sa.Column("index_unit", TEXT(), nullable=False),
        sa.Column("index_base", sa.Integer(), nullable=False),
        sa.Column("index_evidence", TEXT(), nullable=False),
        sa.Column("score_meaning", TEXT(), nullable=False),
        sa.Column("reduced", TEXT(), nullable=True),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_slug"), ["slug"], unique=True)
        batch_op.create_index(batch_op.f("ix_dataset_paper_id"), ["paper_id"], unique=False)
    op.create_table(
        "dataset_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("file", TEXT(), nullable=False),
        sa.Column("source_path", TEXT(), nullable=False),
        sa.Column("note", TEXT(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset_id", "file"),
    )
    with op.batch_alter_table("dataset_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_list_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_list_model_id"), ["model_id"], unique=False)
    op.create_table(
        "dataset_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("head_type_id", sa.Integer(), nullable=False),
        sa.Column("layer", sa.Integer(), nullable=False),
        sa.Column("head", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("label", TEXT(), nullable=True),
        sa.ForeignKeyConstraint(["list_id"], ["dataset_list.id"]),
        sa.ForeignKeyConstraint(["head_type_id"], ["head_type.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("list_id", "layer", "head", "head_type_id"),
    )
    with op.batch_alter_table("dataset_head", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_head_list_id"), ["list_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_head_head_type_id"), ["head_type_id"], unique=False)


def downgrade() -> None:
    for table in ("dataset_head", "dataset_list", "dataset"):
        op.drop_table(table)
