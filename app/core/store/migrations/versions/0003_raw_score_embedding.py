"""scores: the model's raw score and its embedding, so a site calibration can be fitted and
applied to stored scores without rescoring

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("raw_score", sa.Float))
        batch.add_column(sa.Column("embedding", sa.JSON))
    # Scores stored before calibration existed are uncalibrated: raw = shown.
    op.execute("UPDATE scores SET raw_score = score")


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("embedding")
        batch.drop_column("raw_score")
