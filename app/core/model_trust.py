"""Which models this station runs: a trust anchor outside the model's own card.

The loader checks each graph against the sha256 in its card: that proves the files are whole,
not that they are the ones meant to run (a different graph with an edited card passes, and runs
under the shipped model's name). So a model runs only when its graphs' hashes are
- the ones this program ships (``SHIPPED``, in the code that is bundled, not in a data file), or
- recorded in the station's database as fine-tuned here or approved by a person (a confirmation
  in the window, ``--trust-model`` on the command line), with who and when.
Anything else is refused with UntrustedModel, which says how to approve it.
"""
from __future__ import annotations

import getpass
import logging

from .model_contract import ModelError
from .store.database import Database
from .store.repository import model_approval, register_model

log = logging.getLogger(__name__)

# Main graph sha256 -> detail graph sha256 (None for a model with one graph). Updated by the
# release recipe with the shipped card (tests/core/test_model_trust.py checks they agree).
SHIPPED: dict[str, str | None] = {
    # mobileiqa-student 0.3.0 (stations that scored with it keep trusting it)
    "183ca0a0344c3d0968c20fc3199e82b27ba7a622e85e085b587bb76a3cc5018d":
        "53f72927312597d8cc2afcf7ae52233e51a695fcf0a7c8b05ceb7e6986c65164",
    # mobileiqa-student 0.4.0
    "44746d3bd37f8a4a6a99d74b14610771c85f6aa75ac219f5c97c942dd1a6879d":
        "f4c9ba42d7441f2b2bee614ef1fe6d9276a1802b5e38413f8969c5d2709152ff",
}


def graph_hashes(card: dict) -> tuple[str, str | None]:
    detail = card.get("detail_model")
    return card["sha256"], detail["sha256"] if detail else None


class UntrustedModel(ModelError):
    """A whole, loadable model that this station has never been told to run."""

    def __init__(self, card: dict):
        main, _ = graph_hashes(card)
        self.card = card
        super().__init__(
            f"{card['name']} v{card['version']} (sha256 {main[:12]}…) is not a model this program ships or "
            "this station fine-tuned or approved; approve it in the window, or with --trust-model")


def is_shipped(card: dict) -> bool:
    main, detail = graph_hashes(card)
    return main in SHIPPED and SHIPPED[main] == detail


def admit_model(db: Database, card: dict, path: str, approved_by: str | None = None) -> int:
    """The model version id of a model allowed to run here, registering it on first sight;
    ``approved_by`` (a person) approves one not yet trusted, and the approval is recorded."""
    if is_shipped(card):
        return register_model(db, card, path, origin="shipped", approved_by="the program")
    if model_approval(db, card) is not None:
        return register_model(db, card, path)
    if not approved_by:
        raise UntrustedModel(card)
    log.warning("model %s v%s (sha256 %s) approved to run by %s", card["name"], card["version"], card["sha256"], approved_by)
    return register_model(db, card, path, origin="approved", approved_by=approved_by)


def current_user() -> str:
    """Who is approving, as the operating system knows them."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        return "unknown user"
