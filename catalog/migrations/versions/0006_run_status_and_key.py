"""one run per (model, detector, version, seed), and run status from one closed vocabulary

Runs that could not apply to a model were stored as not-verifiable without a
task accuracy; they become not-applicable.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 11:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# RunStatus as this revision knows it (catalog/models.py); a later change of the vocabulary is a new revision.
STATUSES = ("complete", "not-verifiable", "not-applicable", "exploratory", "failed")


def upgrade() -> None:
    op.execute("UPDATE run SET status = 'not-applicable' WHERE status = 'not-verifiable' AND task_total IS NULL")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_run_model_id_detector_detector_version_seed", ["model_id", "detector", "detector_version", "seed"]
        )
        batch_op.create_check_constraint("run_status", f"status IN ({', '.join(repr(s) for s in STATUSES)})")


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_constraint("run_status", type_="check")
        batch_op.drop_constraint("uq_run_model_id_detector_detector_version_seed", type_="unique")
    op.execute("UPDATE run SET status = 'not-verifiable' WHERE status = 'not-applicable'")
