"""Jobs' true status (issue 16): each running job's lease on its outbox row, the job of a tenant
export (a 'running' whose lease ran out blocks no new export), and one row per round of periodic
jobs, so that N workers queue one copy of each

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-09 01:00:00

(0030 and 0031 are taken on another branch: whoever merges second chains this one after them.)
"""
import sqlalchemy as sa
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runner", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_job_outbox_lease", ["lease_until"], unique=False)
    op.add_column("tenant_exports", sa.Column("job_id", sa.Uuid(), nullable=True))
    op.create_table(
        "periodic_rounds",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "period_start", name=op.f("pk_periodic_rounds")),
    )


def downgrade() -> None:
    op.drop_table("periodic_rounds")
    with op.batch_alter_table("tenant_exports", schema=None) as batch_op:
        batch_op.drop_column("job_id")
    with op.batch_alter_table("job_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_job_outbox_lease")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("runner")
