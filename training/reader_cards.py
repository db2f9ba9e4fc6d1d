"""A reader written onto a model's card (the exposure and the sharpness readers): a new model with
the same graphs. Its block goes under ``reading``, its sentence into the reading's meaning and
``notes``, its fit's report under ``training``; a refit replaces exactly its own sentence, so the
other readers' sentences stay."""
from __future__ import annotations

import json


def with_reader_block(card: dict, key: str, block: dict, note: str, report: dict) -> dict:
    card = json.loads(json.dumps(card))  # a deep copy
    reading = dict(card.get("reading") or {}, **{key: block})
    meaning = reading.get("meaning", "")
    old = (card.get("notes") or {}).get(key)
    if old:
        meaning = meaning.replace("; " + old, "").replace(old, "")
    reading["meaning"] = "; ".join(filter(None, (meaning, note)))
    card["reading"] = reading
    card.setdefault("notes", {})[key] = note
    card.setdefault("training", {})[f"{key}_reader"] = report
    return card
