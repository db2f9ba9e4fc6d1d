"""How a model's two readers combine, rewritten on its card: a new model with the same graphs.

The rule is ``reading.fusion`` (app.core.scoring.reading.Reading). Changing it changes every score of
a photo larger than the viewing size, so it is a new version with its own card, identity and
evaluations, like a refitted reader. The readers' own blocks (exposure, sharpness) and sentences
stay as they were."""
from __future__ import annotations

import dataclasses
import json

from app.core.scoring.reading import Reading

# Why each rule, in the card's notes (the measurements behind them: training/README.md, "How the
# two readers combine").
WHY = {
    "worse": ("the worse of the two readers weighs {worse_weight:g}: an inspector fails a photo whose flaw shows at fit "
              "(the overview) or only at 100 % (the detail tiles); a fixed mean let a sharp-looking overview outvote "
              "heavy blur seen by the detail reader (v0.4.0: 29 % of heavily damaged copies failed)."),
    "cap": ("the detail reader caps the overview's score at its own opinion plus {detail_margin:g} points: on clean "
            "photos the detail network's opinion moves by about 10 points with the size its tiles are cut from, and "
            "under v0.7.1's rule (the worse reader weighing 0.75) the score moved with it (held out: spread 7.3 points "
            "over 768 px to native); damage seen only at 100 % (noise, blocking, blur) takes the detail's opinion "
            "20-50 points down, past the margin. So a clean photo gets the overview's score at any size, and the "
            "detail reader never raises a score."),
}

# What the "damage as the score counts it" overlay shows under each rule (the viewer's native map).
COUNTED_MAP = {
    "worse": ("at native resolution, (1 - detail weight) x the whole-photo map stretched over the photo + detail "
              "weight x the detail tiles' own score map (1 - their fused local quality), as the score weighs its two "
              "readers (photos no larger than the viewing size: the whole-photo map); shows what lowers the score, "
              "fine damage faintly (native AUROC 0.82); higher is worse"),
    "cap": ("at native resolution, the detail tiles' own score map (1 - their fused local quality) where the detail "
            "reader caps the score, else the whole-photo map stretched over the photo (and for photos no larger "
            "than the viewing size); shows what lowers the score; higher is worse"),
}

READERS = ("exposure", "sharpness")  # the caps whose sentences follow the rule's in the reading's meaning


def reading_block(rule: Reading, old: dict, notes: dict) -> dict:
    """The card's ``reading`` for ``rule``: its fields and sentence, then the readers' blocks of
    the ``old`` reading kept as they were, each reader's sentence (from ``notes``) after the rule's."""
    block = rule.to_card() | {k: old[k] for k in READERS if k in old}
    block["meaning"] = "; ".join([block["meaning"]] + [notes[k] for k in READERS if k in old and notes.get(k)])
    return block


def rule_of(block: dict) -> Reading:
    """The rule a card's ``reading`` block states (its readers' blocks and sentence left aside)."""
    return Reading(**{k: v for k, v in block.items() if k != "meaning" and k not in READERS})


def with_reading_rule(card: dict, fusion: str, *, worse_weight: float | None = None,
                      detail_margin: float | None = None) -> dict:
    """``card`` with its readers combined by ``fusion`` (and its parameter); the readers' blocks,
    the reading's sizes and every other field stay."""
    if fusion not in WHY:
        raise ValueError(f"fusion {fusion!r}: one of {', '.join(WHY)}")
    card = json.loads(json.dumps(card))  # a deep copy
    changes = {"fusion": fusion}
    if worse_weight is not None:
        changes["worse_weight"] = worse_weight
    if detail_margin is not None:
        changes["detail_margin"] = detail_margin
    rule = dataclasses.replace(Reading.from_card(card), **changes)
    notes = card.setdefault("notes", {})
    card["reading"] = reading_block(rule, card.get("reading") or {}, notes)
    notes["reading"] = WHY[fusion].format(**dataclasses.asdict(rule))
    if "damage as the score counts it" in (card.get("overlays") or {}):
        card["overlays"]["damage as the score counts it"] = COUNTED_MAP[fusion]
    return card
