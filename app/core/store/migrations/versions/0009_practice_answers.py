"""practice answers: the answers shown with practice photos move out of gold_images into their
own table, so a practice photo rated later as a normal photo is never an exact-answer gold check
(screening rejected honest raters one step off the practice answer)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Practice answers were stored as gold with tolerance 0. A row is one where its photo was ever a
# practice photo; it stays gold too only where that photo was also given as hidden gold or voted
# on as gold (an imported gold answer), since a practice row was never written over a gold one.
_PRACTICE = "SELECT DISTINCT image_id FROM rating_orders WHERE kind = 'training'"
_ALSO_GOLD = ("SELECT image_id FROM rating_orders WHERE kind = 'gold' "
              "UNION SELECT image_id FROM votes WHERE kind = 'gold'")


def upgrade() -> None:
    op.create_table(
        "practice_answers",
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("expected", sa.Integer, nullable=False),
    )
    op.execute(f"INSERT INTO practice_answers (image_id, expected) SELECT image_id, expected FROM gold_images "
               f"WHERE image_id IN ({_PRACTICE})")
    op.execute(f"DELETE FROM gold_images WHERE tolerance = 0 AND image_id IN ({_PRACTICE}) "
               f"AND image_id NOT IN ({_ALSO_GOLD})")


def downgrade() -> None:
    op.execute("INSERT INTO gold_images (image_id, expected, tolerance) SELECT image_id, expected, 0 "
               "FROM practice_answers WHERE image_id NOT IN (SELECT image_id FROM gold_images)")
    op.drop_table("practice_answers")
