"""central authority: enrolled devices, form keys, audit checkpoints, audit MACs (issue 15)

The tables exist everywhere (one schema); the PostgreSQL authority layer on top of them (device
roles, row-level security, definer functions) is installed by ``certdesk central migrate``
(db/central.py), never by a workstation.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'devices',
        sa.Column('device_id', sa.String(63), nullable=False),
        sa.Column('tag', sa.String(8), nullable=False),
        sa.Column('name', sa.String(64), nullable=True),
        sa.Column('install_id', sa.String(36), nullable=False),
        sa.Column('token', sa.String(64), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('enrolled_by', sa.String(64), nullable=True),
        sa.Column('enrolled_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('device_id', name=op.f('pk_devices')),
        sa.UniqueConstraint('tag', name=op.f('uq_devices_tag')),
    )
    op.create_table(
        'form_keys',
        sa.Column('key_id', sa.String(8), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(64), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('retired_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key_id', name=op.f('pk_form_keys')),
    )
    op.create_table(
        'audit_checkpoints',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('device_id', sa.String(63), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('head_id', sa.String(36), nullable=True),
        sa.Column('head_hash', sa.String(64), nullable=True),
        sa.Column('device_mac', sa.String(64), nullable=True),
        sa.Column('central_count', sa.Integer(), nullable=True),
        sa.Column('server_mac', sa.String(64), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_checkpoints')),
    )
    op.create_index(op.f('ix_audit_checkpoints_device_id'), 'audit_checkpoints', ['device_id'], unique=False)
    # A plain ADD COLUMN (nullable): SQLite does it in place, so the append-only triggers survive.
    op.add_column('audit_log', sa.Column('mac', sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('mac')
    op.drop_index(op.f('ix_audit_checkpoints_device_id'), table_name='audit_checkpoints')
    op.drop_table('audit_checkpoints')
    op.drop_table('form_keys')
    op.drop_table('devices')
