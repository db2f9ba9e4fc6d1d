"""operators: the people who work at a station, by name or badge id, with a role (operator or
supervisor) and an optional PIN (salted PBKDF2); and who changed the site's state: a threshold
profile's ``changed_by`` / ``changed_at``, a model version's ``chosen_by`` / ``chosen_at`` (made
the site's version) and ``calibrated_by`` / ``calibrated_at``. Rows from before are left empty:
nobody was named then.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("pin_salt", sa.String(64)),
        sa.Column("pin_hash", sa.String(128)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_signed_in", sa.DateTime),
    )
    with op.batch_alter_table("threshold_profiles") as batch:
        batch.add_column(sa.Column("changed_by", sa.String(255)))
        batch.add_column(sa.Column("changed_at", sa.DateTime))
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("chosen_by", sa.String(255)))
        batch.add_column(sa.Column("chosen_at", sa.DateTime))
        batch.add_column(sa.Column("calibrated_by", sa.String(255)))
        batch.add_column(sa.Column("calibrated_at", sa.DateTime))


# Dropped in place (SQLite 3.35+ and PostgreSQL both can), not by batch mode: batch mode copies
# the table and drops the old one, and with foreign keys on, dropping model_versions cascades to
# every stored score of every version.
_ADDED = {"model_versions": ("calibrated_at", "calibrated_by", "chosen_at", "chosen_by"),
          "threshold_profiles": ("changed_at", "changed_by")}


def downgrade() -> None:
    for table, columns in _ADDED.items():
        for column in columns:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table("operators")
