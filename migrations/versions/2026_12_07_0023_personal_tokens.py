"""Personal API tokens: a token acts as its owner (owner_id) with the owner's roles, limited by its
scopes; a token with no owner keeps its role and acts for a system. Optional expiry.

Tokens made before this revision were role-bound integration tokens that acted as the
administrator who made them. They stay role-bound, with no owner and every scope, so the systems
using them keep working; from now on what they do is logged as the token's (the `via` of the
audit log), no longer as their creator's.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 22:00:00
"""
from alembic import op
import sqlalchemy as sa

import shangliang.core.db

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

EVERY_SCOPE = 'read topics upload manage'


def upgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('scopes', sa.String(length=64), nullable=False,
                                      server_default=EVERY_SCOPE))
        batch_op.add_column(sa.Column('expires_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.alter_column('role', existing_type=sa.String(length=32), nullable=True)
        batch_op.create_foreign_key(op.f('fk_api_tokens_owner_id_users'), 'users', ['owner_id'], ['id'])
        batch_op.create_check_constraint('owner_or_role', sa.text('(owner_id IS NULL) <> (role IS NULL)'))
        batch_op.create_index('ix_api_tokens_owner', ['owner_id'], unique=False)
    with op.batch_alter_table('api_tokens') as batch_op:
        # the default was for the rows already there; every new token names its scopes
        batch_op.alter_column('scopes', existing_type=sa.String(length=64), server_default=None)


def downgrade() -> None:
    # A personal token has no role to fall back to: it cannot outlive the downgrade.
    op.execute('DELETE FROM api_tokens WHERE owner_id IS NOT NULL')
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_index('ix_api_tokens_owner')
        batch_op.drop_constraint(op.f('ck_api_tokens_owner_or_role'), type_='check')
        batch_op.drop_constraint(op.f('fk_api_tokens_owner_id_users'), type_='foreignkey')
        batch_op.alter_column('role', existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scopes')
        batch_op.drop_column('owner_id')
