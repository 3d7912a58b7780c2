"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 04:10:22.787756
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('email', name=op.f('uq_contacts_email'))
    )
    op.create_table('institutions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institutions')),
    sa.UniqueConstraint('name_key', 'country', name=op.f('uq_institutions_name_key_country'))
    )
    op.create_table('workshops',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workshops'))
    )
    op.create_table('solutions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('focus_area', sa.String(length=40), nullable=False),
    sa.Column('provider_institution_id', sa.Integer(), nullable=False),
    sa.Column('provider_contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provider_contact_id'], ['contacts.id'], name=op.f('fk_solutions_provider_contact_id_contacts')),
    sa.ForeignKeyConstraint(['provider_institution_id'], ['institutions.id'], name=op.f('fk_solutions_provider_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_solutions'))
    )
    op.create_table('eois',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('workshop_id', sa.String(length=64), nullable=False),
    sa.Column('solution_id', sa.String(length=64), nullable=False),
    sa.Column('adopter_institution_id', sa.Integer(), nullable=False),
    sa.Column('adopter_contact_id', sa.Integer(), nullable=False),
    sa.Column('interest_statement', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['adopter_contact_id'], ['contacts.id'], name=op.f('fk_eois_adopter_contact_id_contacts')),
    sa.ForeignKeyConstraint(['adopter_institution_id'], ['institutions.id'], name=op.f('fk_eois_adopter_institution_id_institutions')),
    sa.ForeignKeyConstraint(['solution_id'], ['solutions.id'], name=op.f('fk_eois_solution_id_solutions')),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'], name=op.f('fk_eois_workshop_id_workshops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eois'))
    )
    with op.batch_alter_table('eois', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eois_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('matches',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('eoi_id', sa.String(length=64), nullable=False),
    sa.Column('workflow_id', sa.String(length=80), nullable=False),
    sa.Column('workshop_id', sa.String(length=64), nullable=False),
    sa.Column('focus_area', sa.String(length=40), nullable=False),
    sa.Column('provider_country', sa.String(length=2), nullable=False),
    sa.Column('adopter_country', sa.String(length=2), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('close_reason', sa.String(length=20), nullable=True),
    sa.Column('next_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['eoi_id'], ['eois.id'], name=op.f('fk_matches_eoi_id_eois')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matches')),
    sa.UniqueConstraint('eoi_id', name=op.f('uq_matches_eoi_id')),
    sa.UniqueConstraint('workflow_id', name=op.f('uq_matches_workflow_id'))
    )
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matches_focus_area'), ['focus_area'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_next_deadline'), ['next_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_stage'), ['stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('match_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('match_id', sa.String(length=80), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_match_history_match_id_matches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_history')),
    sa.UniqueConstraint('match_id', 'seq', name=op.f('uq_match_history_match_id_seq'))
    )
    with op.batch_alter_table('match_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_history_match_id'), ['match_id'], unique=False)

    op.create_table('notification_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('business_key', sa.String(length=300), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('match_id', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_notification_outbox_match_id_matches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_outbox')),
    sa.UniqueConstraint('business_key', name=op.f('uq_notification_outbox_business_key')),
    sa.UniqueConstraint('message_id', name=op.f('uq_notification_outbox_message_id'))
    )
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_outbox_match_id'), ['match_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_outbox_status'), ['status'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_notification_outbox_match_id'))

    op.drop_table('notification_outbox')
    with op.batch_alter_table('match_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_history_match_id'))

    op.drop_table('match_history')
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matches_workshop_id'))
        batch_op.drop_index(batch_op.f('ix_matches_status'))
        batch_op.drop_index(batch_op.f('ix_matches_stage'))
        batch_op.drop_index(batch_op.f('ix_matches_next_deadline'))
        batch_op.drop_index(batch_op.f('ix_matches_focus_area'))

    op.drop_table('matches')
    with op.batch_alter_table('eois', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eois_workshop_id'))

    op.drop_table('eois')
    op.drop_table('solutions')
    op.drop_table('workshops')
    op.drop_table('institutions')
    op.drop_table('contacts')

