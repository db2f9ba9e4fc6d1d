"""Open an exported model for the app: find its card, verify it, start ONNX Runtime.

Every way a model can be unusable ends in a ModelError whose message names the problem, so the
caller can refuse it and keep the model it had.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from . import providers
from .contract import (
    DETAIL_SHA_KEY,
    INPUT_NAME,
    OPTIONAL_OUTPUT_RANKS,
    OUTPUT_RANKS,
    ModelError,
    validate_card,
)

# A graph is read into memory whole to be hashed and loaded from the same bytes; ours are ~12 MB.
MAX_GRAPH_BYTES = 512 << 20


@dataclass(frozen=True)
class LoadedModel:
    card: dict
    onnx_path: Path
    session: ort.InferenceSession
    detail_session: ort.InferenceSession | None = None  # the card's detail reader, when it has its own graph

    @property
    def detail(self) -> ort.InferenceSession:
        """The network that reads native tiles and maps: its own graph, else the main one."""
        return self.detail_session or self.session

    @property
    def name(self) -> str:
        return self.card["name"]

    @property
    def provider(self) -> str:
        """The execution provider that runs it ('CPU', 'CUDA')."""
        return providers.describe(self.session)

    @property
    def version(self) -> str:
        return str(self.card["version"])


def resolve_model_files(path: str | Path) -> tuple[Path, Path]:
    """(onnx, card) for a model given as a folder, an .onnx file or a .json card."""
    p = Path(path)
    if p.is_dir():
        cards = sorted(p.glob("*.json"))
        if not cards:
            raise ModelError(f"{p}: no model card (*.json) in this folder")
        if len(cards) > 1:
            names = ", ".join(c.name for c in cards)
            raise ModelError(f"{p}: several model cards ({names}); name the one to use")
        p = cards[0]
    if p.suffix == ".onnx":
        onnx_path, card_path = p, p.with_suffix(".json")
    elif p.suffix == ".json":
        card_path = p
        onnx_path = p.with_suffix(".onnx")
    else:
        raise ModelError(f"{p}: a model is a .onnx file with a .json card beside it")
    if not card_path.exists():
        raise ModelError(f"{onnx_path.name}: model card {card_path.name} is missing")
    return onnx_path, card_path


def read_card(card_path: Path) -> dict:
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{card_path.name}: model card unreadable ({exc})") from exc
    return validate_card(card, card_path.name)


def check_signature(session: ort.InferenceSession, name: str) -> None:
    inputs = session.get_inputs()
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
        got = ", ".join(i.name for i in inputs)
        raise ModelError(f"{name}: expects one input named {INPUT_NAME!r}, the model has [{got}]")
    inp = inputs[0]
    if inp.type != "tensor(float)" or len(inp.shape) != 4 or inp.shape[1] != 3:
        raise ModelError(f"{name}: input must be float32 [1, 3, H, W], model has {inp.type} {inp.shape}")
    if any(isinstance(d, int) for d in inp.shape[2:]):
        raise ModelError(f"{name}: input height and width must be dynamic, model fixes {inp.shape[2:]}")
    outputs = {o.name: o for o in session.get_outputs()}
    missing = [k for k in OUTPUT_RANKS if k not in outputs]
    if missing:
        raise ModelError(f"{name}: missing output(s) {', '.join(missing)}")
    present = {k: r for k, r in OPTIONAL_OUTPUT_RANKS.items() if k in outputs}
    for key, rank in (OUTPUT_RANKS | present).items():
        shape = outputs[key].shape
        if len(shape) != rank:
            raise ModelError(f"{name}: output {key!r} has rank {len(shape)}, expected {rank}")


def load_model(path: str | Path, threads: int | None = None, provider: str | None = None) -> LoadedModel:
    """Verify and open the model at ``path`` (and its detail graph, when the card names one);
    raise ModelError naming what is wrong."""
    onnx_path, card_path = resolve_model_files(path)
    card = read_card(card_path)
    if card.get("onnx_file") != onnx_path.name:
        raise ModelError(f"{card_path.name}: card is for {card.get('onnx_file')!r}, not {onnx_path.name!r}")
    options = ort.SessionOptions()
    # ORT's memory pattern plans one block per input shape on top of the arena; the reader's
    # shapes are bounded now, but memory is still what runs out first on an inspection station.
    options.enable_mem_pattern = False
    if threads:
        options.intra_op_num_threads = threads
    try:
        chosen = providers.choose(provider)
    except providers.ProviderError as exc:
        raise ModelError(str(exc)) from exc
    session = _open_verified(onnx_path, card["sha256"], card_path.name, options, chosen)
    detail = card.get("detail_model")
    detail_session = None
    if detail:
        detail_path = onnx_path.with_name(detail["onnx_file"])
        detail_session = _open_verified(detail_path, detail["sha256"], card_path.name, options, chosen)
        named = session.get_modelmeta().custom_metadata_map.get(DETAIL_SHA_KEY)
        if named is not None and named != detail["sha256"]:
            raise ModelError(f"{detail['onnx_file']}: not the detail graph {onnx_path.name} was exported with "
                             f"({detail['sha256'][:12]}… != {named[:12]}…)")
    return LoadedModel(card=card, onnx_path=onnx_path, session=session, detail_session=detail_session)


def _open_verified(onnx_path: Path, sha256: str, card_name: str, options, chosen: list[str]) -> ort.InferenceSession:
    """A session for a graph whose bytes match the card's hash and whose signature is the contract's.

    The bytes hashed are the bytes ONNX Runtime loads: the file is read once and the session built
    from memory, so nothing can be swapped between the check and the load, and a graph that keeps
    its weights in external data files (which nothing here hashes) cannot load at all."""
    if not onnx_path.exists():
        raise ModelError(f"{card_name}: model file {onnx_path.name} is missing")
    try:
        if onnx_path.stat().st_size > MAX_GRAPH_BYTES:
            raise ModelError(f"{onnx_path.name}: {onnx_path.stat().st_size >> 20} MB is larger than a model here may be "
                             f"({MAX_GRAPH_BYTES >> 20} MB)")
        data = onnx_path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{onnx_path.name}: cannot be read ({exc.strerror or exc})") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ModelError(
            f"{onnx_path.name}: sha256 does not match its card (file changed or damaged): "
            f"{digest[:12]}… != {str(sha256)[:12]}…"
        )
    try:
        session = ort.InferenceSession(data, options, providers=chosen)
    except Exception as exc:  # ORT raises several private exception types
        if "external" in str(exc).lower():
            raise ModelError(f"{onnx_path.name}: keeps weights in external data files, which are not accepted "
                             "(only the .onnx file is checked against the card; export the weights inside it)") from exc
        raise ModelError(f"{onnx_path.name}: not a loadable ONNX model ({exc})") from exc
    check_signature(session, onnx_path.name)
    return session
