"""reason_codes: the site's list of reason codes for an inspector's decision, in the database so
every station of the site offers the same list (it was each station's settings, per OS login);
raters.instructions_seen_at: when a rater (by default the operator signed in) finished reading
how to rate, so the page is shown once per person whatever the station or OS login (it was the
station's settings). Empty at first: the defaults apply, and a station's own list is carried in
by the window the first time it opens on the new schema.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-16
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reason_codes",
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("changed_by", sa.String(255)),
        sa.Column("changed_at", sa.DateTime, nullable=False),
    )
    # Added in place, not by batch mode: batch mode copies the table and drops the old one, and
    # with foreign keys on, dropping raters would cascade to every vote.
    op.add_column("raters", sa.Column("instructions_seen_at", sa.DateTime))


def downgrade() -> None:
    op.execute("ALTER TABLE raters DROP COLUMN instructions_seen_at")  # in place, as added
    op.drop_table("reason_codes")
