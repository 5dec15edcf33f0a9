"""published rankings are not publications (公示 is one): benchmark_publications is renamed
benchmark_published_rankings, its constraints with it; its row-level security policy and grants
belong to the table and stay attached

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:00:00
"""
from alembic import op

import rls

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD, NEW = 'benchmark_publications', 'benchmark_published_rankings'
FOREIGN_KEYS = (('published_by', 'users', 'id'), ('tenant_id', 'tenants', 'id'))


def upgrade() -> None:
    _rename(OLD, NEW)


def downgrade() -> None:
    _rename(NEW, OLD)


def _rename(old: str, new: str) -> None:
    op.rename_table(old, new)
    if rls.is_postgres():
        names = [(f'pk_{old}', f'pk_{new}'), (f'uq_{old}_tenant_number', f'uq_{new}_tenant_number')]
        names += [(f'fk_{old}_{col}_{ref}', f'fk_{new}_{col}_{ref}') for col, ref, _ in FOREIGN_KEYS]
        for was, now in names:
            op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT {was} TO {now}')
        return
    # SQLite keeps constraint names in the table's SQL: the table is made again with the new ones.
    with op.batch_alter_table(new, recreate='always') as batch_op:
        batch_op.drop_constraint(f'uq_{old}_tenant_number', type_='unique')
        batch_op.create_unique_constraint(f'uq_{new}_tenant_number', ['tenant_id', 'number'])
        for col, ref, ref_col in FOREIGN_KEYS:
            batch_op.drop_constraint(f'fk_{old}_{col}_{ref}', type_='foreignkey')
            batch_op.create_foreign_key(f'fk_{new}_{col}_{ref}', ref, [col], [ref_col])
        batch_op.create_primary_key(f'pk_{new}', ['tenant_id', 'id'])
