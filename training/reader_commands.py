"""Sub-commands of ``python -m training`` that change how an exported model reads a photo, on its card
(a new model: the same graphs, a new card): the exposure reader, the sharpness reader, and the rule
that combines the overview and the detail readers."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

from .command_options import CONFIGS


def _reader_arguments(p, module: str) -> None:
    """What both reader commands ask: the base model, the rated data, the split, the new
    version, where the cap starts to fall, the seed and the output folder."""
    p.add_argument("--model", type=Path, required=True, help="the exported model whose card gets the reader")
    p.add_argument("--data", nargs=3, action="append", required=True, metavar=("NAME", "CSV", "ROOT"),
                   help="a rated dataset whose training split gives photos (its validation split is never read)")
    p.add_argument("--config", type=Path, default=CONFIGS / "joint_student.json", help="the split's fractions and seed")
    p.add_argument("--version", required=True, help="the new model's version")
    p.add_argument("--onset", type=float, default=None,
                   help=f"the probability past which the cap falls (default: training/{module}.py's CAP_ONSET, and why)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="folder for the new model's files")


def _onset(args, default: float) -> float:
    onset = default if args.onset is None else args.onset
    if not 0 <= onset < 1:
        raise SystemExit(f"--onset {onset:g}: a probability from 0 up to (not including) 1")
    return onset


def _as_new_version(card: dict, args) -> dict:
    """The card with the new version, its time, and the command that made it; the base's
    evaluations dropped (this model's are measured anew)."""
    from datetime import UTC, datetime

    card = card | {"version": args.version, "created": datetime.now(UTC).isoformat(timespec="seconds")}
    card["commands"] = list(card.get("commands") or []) + ["python -m training " + shlex.join(args.argv)]
    card.pop("evaluations", None)
    return card


def register_exposure_reader(sub) -> None:
    p = sub.add_parser("exposure-reader", help="give an exported model an exposure reader (a new model: same graphs, new card)")
    _reader_arguments(p, "exposure_reader")
    p.add_argument("--photos", type=int, default=1500, help="at most this many training photos per dataset (seeded); those rated at or above its median get copies")
    p.add_argument("--copies", type=int, default=4, help="exposure copies per photo, at seeded distinct stops")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (default: all cores)")
    p.set_defaults(run=_run_exposure_reader)


def _run_exposure_reader(args) -> int:
    import numpy as np

    from app.core.imageio.decode import load_rgb
    from app.core.model.loader import load_model
    from app.core.scoring.engine import Engine

    from .data.rated_sets import parse_rated_set
    from .exposure_reader import CAP_ONSET, copies_of_the_good, fit_reader, ladder_features, with_reader, write_model
    from .stage_joint import load_splits

    onset = _onset(args, CAP_ONSET)
    model = load_model(args.model, threads=args.threads or None)
    train, _ = load_splits([parse_rated_set(values, None) for values in args.data], json.loads(args.config.read_text()))
    rng = np.random.default_rng(args.seed)
    chosen = []
    copies = []
    for name in dict.fromkeys(it.dataset for it in train):
        items = [it for it in train if it.dataset == name]
        picked = [items[i] for i in sorted(rng.choice(len(items), min(args.photos, len(items)), replace=False))]
        chosen += picked
        copies += copies_of_the_good([it.mos for it in picked])  # see training/exposure_reader.py
    args.out.mkdir(parents=True, exist_ok=True)
    ladders = ladder_features(Engine(model), [lambda it=it: load_rgb(it.image) for it in chosen], args.copies, args.seed,
                              with_copies=copies, progress=args.out / "ladders.npz", names=[it.image for it in chosen])
    reader, report = fit_reader(ladders, seed=args.seed, onset=onset)
    report["data"] = {name: {"photos": sum(it.dataset == name for it in chosen),
                             "with_copies": sum(c for it, c in zip(chosen, copies) if it.dataset == name)}
                      for name in dict.fromkeys(it.dataset for it in chosen)}
    card = _as_new_version(with_reader(model.card, reader, report), args)
    onnx = write_model(args.model, card, args.out)
    print(f"wrote {onnx} (l2 {report['l2']:g}); cross-validated, per stop: share capped below 40 / below 60:")
    for stop, row in report["cross_validated"].items():
        print(f"  {stop:>5} stops  n={row['n']:5d}  {row['cap_below_40']:.2f} / {row['cap_below_60']:.2f}")
    return 0


def register_sharpness_reader(sub) -> None:
    p = sub.add_parser("sharpness-reader",
                       help="give an exported model a sharpness reader (a new model: same graphs, new card)")
    _reader_arguments(p, "sharpness_reader")
    p.add_argument("--photos", type=int, default=300,
                   help="photos per dataset, drawn (seeded) from those rated at or above its median")
    p.add_argument("--hires", type=Path, nargs="+", required=True,
                   help="folders of clean high-resolution photos; only the training half (split_hires) is read")
    p.add_argument("--kodak", type=Path, help="a folder of further clean photos read whole (e.g. Kodak's)")
    p.set_defaults(run=_run_sharpness_reader)


def _run_sharpness_reader(args) -> int:
    from app.core.model.loader import read_card
    from app.core.scoring.reading import Reading

    from .data.rated_sets import parse_rated_set
    from .exposure_reader import write_model
    from .sharpness_reader import CAP_ONSET, fit_reader, ladder_features, ladder_photos, with_reader
    from .stage_joint import load_splits

    onset = _onset(args, CAP_ONSET)
    card = read_card(args.model.with_suffix(".json"))
    train, _ = load_splits([parse_rated_set(values, None) for values in args.data], json.loads(args.config.read_text()))
    sources = ladder_photos(train, args.hires, args.kodak, args.photos, args.seed)
    ladders = ladder_features([load for _, load in sources], Reading.from_card(card))
    reader, report = fit_reader(ladders, seed=args.seed, onset=onset)
    report["data"] = {where: sum(w == where for w, _ in sources) for where in dict.fromkeys(w for w, _ in sources)}
    card = _as_new_version(with_reader(card, reader, report), args)
    onnx = write_model(args.model, card, args.out)
    print(f"wrote {onnx} (l2 {report['l2']:g}, onset {onset:g}); cross-validated, per copy: share capped below 40 / below 60:")
    for name, row in report["cross_validated"].items():
        print(f"  {name:<24} {'fails' if row['target'] else 'passes'}  n={row['n']:4d}  {row['cap_below_40']:.2f} / {row['cap_below_60']:.2f}")
    print("cross-validated, per onset: copies that fail capped below 40 / copies accepted capped below 60:")
    for at, row in report["cross_validated_by_onset"].items():
        print(f"  onset {at:<4} {row['failed_capped_below_40']:.2f} / {row['accepted_capped_below_60']:.2f}")
    return 0


def register_reading_rule(sub) -> None:
    p = sub.add_parser("reading-rule", help="combine an exported model's overview and detail readers by another rule "
                                            "(a new model: same graphs, new card)")
    p.add_argument("--model", type=Path, required=True, help="the exported model whose card gets the rule")
    p.add_argument("--fusion", choices=("cap", "worse"), required=True,
                   help="cap: the overview's score capped at the detail's + --detail-margin; worse: the worse weighs "
                        "--worse-weight (training/reading_rule.py says why)")
    p.add_argument("--detail-margin", type=float, help="points above the detail's opinion where its cap starts")
    p.add_argument("--worse-weight", type=float, help="the worse reader's weight (0.5-1)")
    p.add_argument("--version", required=True, help="the new model's version")
    p.add_argument("--out", type=Path, required=True, help="folder for the new model's files")
    p.set_defaults(run=_run_reading_rule)


def _run_reading_rule(args) -> int:
    from app.core.model.contract import ModelError, validate_reading
    from app.core.model.loader import read_card

    from .exposure_reader import write_model
    from .reading_rule import with_reading_rule

    card = with_reading_rule(read_card(args.model.with_suffix(".json")), args.fusion,
                             worse_weight=args.worse_weight, detail_margin=args.detail_margin)
    try:
        validate_reading(card["reading"], "the new card")
    except ModelError as exc:
        raise SystemExit(str(exc)) from None
    onnx = write_model(args.model, _as_new_version(card, args), args.out)
    print(f"wrote {onnx}: {card['reading']['meaning'].split('; ')[0]}")
    return 0
