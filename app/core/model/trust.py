"""Which models this station runs: a trust anchor outside the model's own card.

The loader checks each graph against the sha256 in its card: that proves the files are whole,
not that they are the ones meant to run (a different graph with an edited card passes, and runs
under the shipped model's name), and a card edited where it changes scores (its input scaling,
its reading block, its score range) is a different model with the same graphs. So a model runs
only when its identity (``model_contract.model_identity``: the graphs' hashes and every card field
that changes a score) is
- the ones this program ships (``SHIPPED``, in the code that is bundled, not in a data file), or
- recorded in the station's database as fine-tuned here or approved by a person (a confirmation
  in the window, ``--trust-model`` on the command line), with who and when.
Anything else is refused with UntrustedModel, which says how to approve it.
"""
from __future__ import annotations

import getpass
import logging

from ..store.database import Database
from ..store.repository import model_approval, register_model
from .contract import ModelError, model_identity

log = logging.getLogger(__name__)

# The identities (model_contract.model_identity: the graphs' hashes and every card field that
# changes a score) of the models this program ships. Updated by the release recipe with the
# shipped card (tests/core/test_model_trust.py checks they agree).
SHIPPED: set[str] = {
    # mobileiqa-student 0.3.0, as its card read when it first landed and after its reading block
    # was described (stations that scored with it keep trusting it)
    "7f4ef0ef46c03b2a4f1ca786daa46e5ecb328bbc2f414a709e467df1d660cc9e",
    "4e4046a2ee5629b2125ab50496ff3a01b8d7036ab37668e1feb834d0a6c5ea45",
    # mobileiqa-student 0.4.0
    "f11fddaddb3c2d088acdf79aa9fd56444412f04dec8f38b84883bbb4d95f7ffb",
    # mobileiqa-student 0.5.0
    "7b1c670f73c4bb09b8dba794ffbed5a53fbcfdc4b81556237e326b3212081bd8",
    # mobileiqa-student 0.6.0 (0.5.0's graphs read with an exposure reader)
    "3dedd426e1e150af7da4e7ef836b3ebcf199261621b53f1fb5f84728c2e033c3",
    # mobileiqa-student 0.7.0 (0.6.0 read with a sharpness reader too)
    "5e3fa067a868be359684d6ca41b0bf84c89076a0a51613bda3a559d70489eb07",
    # mobileiqa-student 0.7.1 (0.7.0 with its sharpness reader refitted by edge orientation)
    "c5138237d440a430eec49b317f8c44f46ed54e418561cb3f9d03bb91cf6cacab",
    # mobileiqa-student 0.7.2 (0.7.1's graphs and readers, the detail reader a cap on the overview's score)
    "b6675876d73e3233764a3ae854784b196026f0d80c690e2db4b2e5a883e0f3e8",
    # mobileiqa-student 0.7.3 (0.7.2's scores bit for bit, its graph giving the pooled stages a site calibration reads)
    "f4102dc653153c2e6229491a92d58fb01245956ef7aba3643426e6d9ddb7e1d7",
}


class UntrustedModel(ModelError):
    """A whole, loadable model that this station has never been told to run."""

    def __init__(self, card: dict):
        self.card = card
        super().__init__(
            f"{card['name']} v{card['version']} (model {model_identity(card)[:12]}…) is not a model this program ships "
            "or this station fine-tuned or approved (a changed card is a new model); approve it in the window, "
            "or with --trust-model")


def is_shipped(card: dict) -> bool:
    return model_identity(card) in SHIPPED


def admit_model(db: Database, card: dict, path: str, approved_by: str | None = None) -> int:
    """The model version id of a model allowed to run here, registering it on first sight;
    ``approved_by`` (a person) approves one not yet trusted, and the approval is recorded."""
    if is_shipped(card):
        return register_model(db, card, path, origin="shipped", approved_by="the program")
    if model_approval(db, card) is not None:
        return register_model(db, card, path)
    if not approved_by:
        raise UntrustedModel(card)
    log.warning("model %s v%s (model %s) approved to run by %s", card["name"], card["version"], model_identity(card), approved_by)
    return register_model(db, card, path, origin="approved", approved_by=approved_by)


def current_user() -> str:
    """Who is approving, as the operating system knows them."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        return "unknown user"
