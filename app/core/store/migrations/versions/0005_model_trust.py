"""model trust: who approved a model version to run at this station, and how it came
(shipped with the program, fine-tuned here, or approved by a person); versions registered
before this record existed stay unapproved until someone approves them again

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, never a batch copy: recreating model_versions on SQLite would drop the
# old table, and with foreign keys on that deletes every score, profile and review under it.
def upgrade() -> None:
    op.add_column("model_versions", sa.Column("origin", sa.String(16)))
    op.add_column("model_versions", sa.Column("approved_by", sa.String(255)))
    op.add_column("model_versions", sa.Column("approved_at", sa.DateTime))


def downgrade() -> None:
    op.drop_column("model_versions", "approved_at")
    op.drop_column("model_versions", "approved_by")
    op.drop_column("model_versions", "origin")
