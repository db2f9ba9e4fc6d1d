"""model identity: a model version is named by its graphs' hashes and every card field that
changes a score (app.core.model.contract.model_identity), not by its main graph's hash alone, so
a card edited where it matters is a new model; a version recorded as shipped whose card is not
one the program ships loses that trust and needs an approval again

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
import json

import sqlalchemy as sa
from alembic import op

from app.core.model.contract import model_identity
from app.core.model.trust import SHIPPED

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, card, origin FROM model_versions")).all()
    for row_id, card, origin in rows:
        card = json.loads(card) if isinstance(card, str) else card
        identity = model_identity(card)
        values = {"id": row_id, "identity": identity}
        if origin == "shipped" and identity not in SHIPPED:
            bind.execute(sa.text("UPDATE model_versions SET sha256 = :identity, origin = NULL, approved_by = NULL, "
                                 "approved_at = NULL WHERE id = :id"), values)
        else:
            bind.execute(sa.text("UPDATE model_versions SET sha256 = :identity WHERE id = :id"), values)


def downgrade() -> None:
    bind = op.get_bind()
    for row_id, card in bind.execute(sa.text("SELECT id, card FROM model_versions")).all():
        card = json.loads(card) if isinstance(card, str) else card
        bind.execute(sa.text("UPDATE model_versions SET sha256 = :sha WHERE id = :id"), {"id": row_id, "sha": card["sha256"]})
