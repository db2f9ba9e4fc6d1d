"""scores.pooled_stages: the backbone's last two stages averaged over the photo (half floats), stored
beside the embedding for a site calibration to read; on a real-ratings site the 96-value
embedding alone left half the fine-tune's gain unreached. Empty for scores of models whose graph
gives no such output, and for scores stored before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("pooled_stages", sa.LargeBinary))


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("pooled_stages")
