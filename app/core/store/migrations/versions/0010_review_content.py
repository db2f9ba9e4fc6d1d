"""reviews.content_hash: the content a decision was made on. A decision is about the photo, so it
stays in force across model versions, and lapses when another file takes the photo's path.
Existing decisions are taken to be on the content stored now.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("content_hash", sa.String(64)))
    op.execute("UPDATE reviews SET content_hash = "
               "(SELECT images.content_hash FROM images WHERE images.id = reviews.image_id)")


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("content_hash")
