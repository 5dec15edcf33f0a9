"""OAuth 2.0 authorization code with PKCE: a street's registered clients (public, or confidential with a hashed secret; redirect URIs
matched exactly, the scopes they may ask for) and the authorization codes issued to them, kept
hashed, single-use and minutes long (integrations/oauth.py)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 22:30:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

TABLES = ('oauth_clients', 'oauth_codes')


def upgrade() -> None:
    op.create_table('oauth_clients',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('scopes', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_oauth_clients_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_oauth_clients_created_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_oauth_clients'))
    )
    op.create_table('oauth_codes',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=False),
    sa.Column('scopes', sa.String(length=64), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'client_id'], ['oauth_clients.tenant_id', 'oauth_clients.id'],
                            name=op.f('fk_oauth_codes_tenant_id_oauth_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_oauth_codes_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_codes_user_id_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_oauth_codes'))
    )
    op.create_index('ix_oauth_codes_hash', 'oauth_codes', ['tenant_id', 'code_hash'], unique=True)
    for table in TABLES:
        rls.enable(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        rls.disable(table)
    op.drop_index('ix_oauth_codes_hash', table_name='oauth_codes')
    op.drop_table('oauth_codes')
    op.drop_table('oauth_clients')
