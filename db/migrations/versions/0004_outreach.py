"""outreach marks and flags, payroll export record, recovery instalments (issue 8)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outreach_marks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('marked_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('operator', sa.String(length=64), nullable=True),
    sa.Column('workstation', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_outreach_marks_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_marks'))
    )
    op.create_index('ix_outreach_marks_person_created', 'outreach_marks', ['person_id', 'created_at'], unique=False)
    op.create_table('outreach_flags',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('housebound', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_outreach_flags_person_id_persons')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_outreach_flags'))
    )
    op.create_table('payroll_exports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('payroll_month', sa.String(length=7), nullable=False),
    sa.Column('filename', sa.String(length=260), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('pending_approvals', sa.Integer(), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=True),
    sa.Column('workstation', sa.String(length=64), nullable=True),
    sa.Column('exported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payroll_exports'))
    )
    op.create_index('ix_payroll_exports_month', 'payroll_exports', ['payroll_month'], unique=False)
    op.create_table('recovery_instalments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_month', sa.String(length=7), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('paid_fen', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['recovery_cases.id'], name=op.f('fk_recovery_instalments_case_id_recovery_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_instalments'))
    )
    op.create_index('ix_recovery_instalments_case', 'recovery_instalments', ['case_id', 'seq'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_recovery_instalments_case', table_name='recovery_instalments')
    op.drop_table('recovery_instalments')
    op.drop_index('ix_payroll_exports_month', table_name='payroll_exports')
    op.drop_table('payroll_exports')
    op.drop_table('outreach_flags')
    op.drop_index('ix_outreach_marks_person_created', table_name='outreach_marks')
    op.drop_table('outreach_marks')
