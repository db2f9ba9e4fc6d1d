"""ratings_imports: each ``ratings import`` of a votes file, so one stopped part-way (its votes are
written in bounded transactions) is known as unfinished until a rerun completes it; and an index
on votes (rater_id, image_id) for the import's duplicate check, chunk by chunk.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratings_imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("votes_added", sa.Integer, nullable=False),
    )
    op.create_index("ix_ratings_imports_fingerprint", "ratings_imports", ["fingerprint"])
    op.create_index("ix_votes_rater_image", "votes", ["rater_id", "image_id"])


def downgrade() -> None:
    op.drop_index("ix_votes_rater_image", "votes")
    op.drop_index("ix_ratings_imports_fingerprint", "ratings_imports")
    op.drop_table("ratings_imports")
