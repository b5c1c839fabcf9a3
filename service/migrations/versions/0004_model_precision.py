"""model precision beside the model version

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:05:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Earlier decisions keep NULL. Those decided since the audit actor named the precision
    # (`model:<version>:<precision>`) still say it there; older ones never recorded it.
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_precision', sa.String(length=16), nullable=True))
    with op.batch_alter_table('moderation_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_precision', sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('moderation_events', schema=None) as batch_op:
        batch_op.drop_column('model_precision')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('model_precision')
