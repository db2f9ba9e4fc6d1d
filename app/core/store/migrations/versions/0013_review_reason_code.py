"""reviews.reason_code: the site's code for why a photo was accepted or rejected (blur, exposure,
noise, framing, other...), beside the free-text reason. Decisions made before keep no code: their
text alone is what the inspector gave, and no code is guessed for them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-14
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("reason_code", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("reason_code")
