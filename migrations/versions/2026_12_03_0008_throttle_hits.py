"""the portal's rate-limit counter is a throttle hit, not a rating (评价): rate_events is renamed
throttle_hits, with its primary key, indexes and (PostgreSQL) id sequence; its grants belong to
the table and stay attached

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:00:00
"""
from alembic import op

import rls

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD, NEW = 'rate_events', 'throttle_hits'


def upgrade() -> None:
    _rename(OLD, NEW)


def downgrade() -> None:
    _rename(NEW, OLD)


def _rename(old: str, new: str) -> None:
    if rls.is_postgres():
        op.rename_table(old, new)
        op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}')
        op.execute(f'ALTER SEQUENCE {old}_id_seq RENAME TO {new}_id_seq')
        for index in ('at', 'bucket_key_at'):
            op.execute(f'ALTER INDEX ix_{old}_{index} RENAME TO ix_{new}_{index}')
        return
    # SQLite renames neither indexes nor constraints: the table is made again with the new names.
    with op.batch_alter_table(old) as batch_op:
        batch_op.drop_index(f'ix_{old}_at')
        batch_op.drop_index(f'ix_{old}_bucket_key_at')
    op.rename_table(old, new)
    with op.batch_alter_table(new, recreate='always') as batch_op:
        batch_op.create_primary_key(f'pk_{new}', ['id'])
        batch_op.create_index(f'ix_{new}_at', ['at'], unique=False)
        batch_op.create_index(f'ix_{new}_bucket_key_at', ['bucket', 'key', 'at'], unique=False)
