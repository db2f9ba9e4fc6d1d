"""images, model versions, scores, threshold profiles

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.String(4096), nullable=False, unique=True),
        sa.Column("content_hash", sa.String(64), index=True),
        sa.Column("size_bytes", sa.Integer),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_seen", sa.DateTime, nullable=False),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("path", sa.String(4096), nullable=False),
        sa.Column("card", sa.JSON, nullable=False),
        sa.Column("calibration", sa.JSON),
        sa.Column("registered_at", sa.DateTime, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("opinions", sa.JSON),
        sa.Column("verdict", sa.String(16)),
        sa.Column("seconds", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("scored_at", sa.DateTime, nullable=False, index=True),
        sa.UniqueConstraint("image_id", "model_version_id", name="uq_score_image_model"),
    )
    op.create_index("ix_scores_model_score", "scores", ["model_version_id", "score"])
    op.create_index("ix_scores_model_verdict", "scores", ["model_version_id", "verdict"])
    op.create_table(
        "threshold_profiles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("pass_at", sa.Float, nullable=False),
        sa.Column("fail_below", sa.Float, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("model_version_id", "name", name="uq_profile_model_name"),
    )


def downgrade() -> None:
    op.drop_table("threshold_profiles")
    op.drop_index("ix_scores_model_verdict", "scores")
    op.drop_index("ix_scores_model_score", "scores")
    op.drop_table("scores")
    op.drop_table("model_versions")
    op.drop_table("images")
