"""The site's rated photos split three ways by a seeded rule: train, validation, test.

- **train**: what the fine-tune learns from;
- **validation**: what chooses the epoch (``best.pt``);
- **test**: what the before/after figures are measured on, and nothing else. The training
  process never receives a test photo (not in its MOS file, not among the teacher's unlabeled
  photos), so the test split cannot influence model selection.

A photo's split follows from its own key (content hash, else path) and the seed alone: a
uniform number ``u`` from sha256(seed, key); ``u < test_fraction`` is test, the next
``val_fraction`` is validation. So rating more photos never moves a photo that was already
assigned, and a fine-tune of a fine-tuned version (same rule, inherited from its card) never
trains on the photos its parent was tested on. Only when a split would be smaller than its
minimum are the photos nearest its boundary moved into it (deterministically), which can
change as ratings are added or withdrawn; the report always gives every split's size.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SplitRule:
    seed: int = 0
    val_fraction: float = 0.2
    test_fraction: float = 0.25
    min_val: int = 3
    min_test: int = 5

    @classmethod
    def from_config(cls, cfg: dict) -> SplitRule:
        return cls(int(cfg.get("split_seed", 0)), float(cfg.get("val_fraction", 0.2)),
                   float(cfg.get("test_fraction", 0.25)), int(cfg.get("min_val", 3)), int(cfg.get("min_test", 5)))

    @classmethod
    def from_json(cls, d: dict) -> SplitRule:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def to_json(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        return (f"seeded rule (seed {self.seed}): sha256 of each photo's content hash (else its path) puts {self.test_fraction:.0%} in test, "
                f"{self.val_fraction:.0%} in validation (at least {self.min_test} / {self.min_val}), the rest in train")


def unit(key: str, seed: int) -> float:
    """A number in [0, 1) fixed by the photo's key and the seed."""
    digest = hashlib.sha256(f"{seed}\0{key}".encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def assign(keys: list[str], rule: SplitRule) -> dict[str, str]:
    """key -> "train" / "val" / "test" for every key (duplicates share their key's split)."""
    u = {k: unit(k, rule.seed) for k in set(keys)}
    split = {k: "test" if v < rule.test_fraction else "val" if v < rule.test_fraction + rule.val_fraction else "train"
             for k, v in u.items()}
    for name, minimum, donors in (("test", rule.min_test, ("val", "train")), ("val", rule.min_val, ("train",))):
        missing = minimum - sum(1 for s in split.values() if s == name)
        if missing > 0:  # top up from the photos just above the boundary
            nearest = sorted((k for k, s in split.items() if s in donors), key=lambda k: u[k])
            for k in nearest[:missing]:
                split[k] = name
    return split


def counts(split: dict[str, str]) -> dict[str, int]:
    return {name: sum(1 for s in split.values() if s == name) for name in SPLITS}
