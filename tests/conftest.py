"""Shared fixtures: everything is made small and offline, here, at test time."""
from __future__ import annotations

import os
from pathlib import Path

# Qt must never look for a real display in tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


def write_photos(folder, n: int = 3, size: tuple[int, int] = (64, 80), *, sizes=None, name="p{i}.png",
                 seed: int = 0, broken: dict[str, bytes] | None = None, **save_options) -> list[Path]:
    """Random photos (uniform noise, drawn in order from one generator seeded ``seed``) written
    into ``folder``, which is made if missing: ``n`` of ``size`` (height, width), or one per
    (height, width) in ``sizes``. ``name`` is a format string over ``i`` ("{i:02d}.png") or a
    list of names; the suffix picks the file type unless ``save_options`` (given to Pillow's
    save: format="JPEG", quality=90) say otherwise. ``broken``: {file name: bytes} written
    beside them, files that are no photo. Returns the photos' paths, in order (not the broken)."""
    import numpy as np
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = None if isinstance(name, str) else list(name)
    if sizes is None:
        sizes = [size] * (len(names) if names is not None else n)
    rng = np.random.default_rng(seed)
    paths = []
    for i, (height, width) in enumerate(sizes):
        path = folder / (names[i] if names is not None else name.format(i=i))
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path, **save_options)
        paths.append(path)
    for file_name, content in (broken or {}).items():
        (folder / file_name).write_bytes(content)
    return paths


@pytest.fixture
def make_photos():
    """The factory of random photos in a folder: ``make_photos(folder, n, size, name=, seed=,
    broken=)``, see ``write_photos``."""
    return write_photos


@pytest.fixture(scope="session")
def exported_student(tmp_path_factory):
    """A freshly initialised student exported through the real CLI path: (model, onnx, card)."""
    torch = pytest.importorskip("torch")
    from models import create_model
    from training.export import export_model

    torch.manual_seed(0)
    model = create_model("student", weights=None).eval()
    out = tmp_path_factory.mktemp("models") / "tiny"
    onnx_path, card_path = export_model(model, out)
    ship_for_tests(card_path)
    return model, onnx_path, card_path


def copy_with_reading(exported_student, folder: Path, **blocks) -> Path:
    """A copy of the tiny exported model in ``folder`` whose card's reading gains ``blocks`` (a
    reader, say): another model with the same graph. Returns its .onnx."""
    import json
    import shutil

    _, onnx_path, card_path = exported_student
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(onnx_path, folder / onnx_path.name)
    card = json.loads(card_path.read_text())
    card["reading"] = dict(card.get("reading") or {}, **blocks)
    (folder / card_path.name).write_text(json.dumps(card))
    return folder / onnx_path.name


def install_in_place(exported_student, folder, version: str, claim=None):
    """The program's model folder as an installer leaves it: the tiny model under its shipped
    name. Each version's card words its map differently (a new identity, the same graph, so the
    same scores); ``claim``: its card's ``same_scores_as`` (see ``scores_as``)."""
    import json
    import shutil

    _, onnx_path, card_path = exported_student
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(onnx_path, folder / onnx_path.name)
    card = json.loads(card_path.read_text())
    card["version"] = version
    card["distortion_map"] += f" (v{version})"
    if claim is not None:
        card["same_scores_as"] = claim
    (folder / card_path.name).write_text(json.dumps(card))
    ship_for_tests(folder / card_path.name)
    return folder / onnx_path.name, card


def scores_as(card: dict) -> dict:
    """The claim a card makes that its model gives ``card``'s scores."""
    from app.core.model.contract import model_identity

    return {"identity": model_identity(card), "name": card["name"], "version": card["version"],
            "checked": "the same graph"}


def ship_for_tests(card_path) -> None:
    """The suite plays the part of a release that ships this tiny model: its identity joins the
    program's trust anchor (tests of an unknown model export another one and leave it out)."""
    import json

    from app.core.model import trust as model_trust
    from app.core.model.contract import model_identity

    card = json.loads(open(card_path, encoding="utf-8").read())
    model_trust.SHIPPED.add(model_identity(card))


@pytest.fixture
def rated_site(tmp_path):
    """A station that has rated its photos: 24 generated photos, four simulated raters (truth
    plus a little noise) who disagree with the base, and a random student exported with its torch
    weights beside it.
    Returns (database path, base model .onnx, tiny fine-tune config)."""
    import json

    import numpy as np
    import torch
    from PIL import Image

    from app.core.ratings.session import LabelingSession
    from app.core.store import open_database
    from models import create_model
    from training.export import export_model

    rng = np.random.default_rng(0)
    paths = []
    for i in range(24):
        level = i % 4
        img = np.clip(rng.normal(128, 10 + 25 * level, (72, 88, 3)), 0, 255).astype(np.uint8)
        path = tmp_path / "site" / f"{i:02d}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(img).save(path)
        paths.append(str(path))

    torch.manual_seed(0)
    student = create_model("student", weights=None)
    # The site's people disagree with the base: the photos the (random) base model scores highest
    # they rate lowest, in four equal groups. The seeded split follows each photo's path, which
    # differs from run to run; so whichever photos land in validation, the base starts badly there
    # and a fine-tune has something to learn (were the base right by chance, no epoch could beat it).
    from training.data.mos import MOSDataset, MOSItem
    from training.loop import predict

    base_says = predict(student, MOSDataset([MOSItem(p, 50.0) for p in paths], "/", student.config.mean, student.config.std))
    photos = [(paths[i], 5 - rank * 4 // len(paths)) for rank, i in enumerate(np.argsort(base_says))]
    db_path = tmp_path / "site.db"
    db = open_database(db_path)
    truth = dict(photos)
    for r in range(4):
        session = LabelingSession(db, f"sim{r}", "site", paths)
        while (item := session.current()) is not None:
            session.vote(int(np.clip(truth[item.path] + rng.integers(-1, 2) * (rng.random() < 0.3), 1, 5)))
    db.close()

    base = tmp_path / "models" / "base"
    export_model(student, base, {"version": "0.1.0"})
    ship_for_tests(base.with_suffix(".json"))
    # The station has run it (as its window does on opening): the database records its trust, so
    # a fine-tune in another process (which knows nothing of this test's trust anchor) accepts it.
    from app.core.model.trust import admit_model

    db = open_database(db_path)
    admit_model(db, json.loads(base.with_suffix(".json").read_text()), str(base.with_suffix(".onnx")))
    db.close()
    torch.save({"config": student.config.to_dict(), "model": student.state_dict(), "card_info": {}}, base.with_suffix(".pt"))
    cfg = tmp_path / "ft.json"
    # At least 6 validation photos and learning rates at which 2 epochs move the order: on 3-5
    # photos the start's SRCC is coarse, and CI once drew a split whose start no epoch could beat.
    cfg.write_text(json.dumps({
        "model": "student", "crop": 64, "batch_size": 6, "epochs": 2, "lr_backbone": 3e-3, "lr_head": 1e-2,
        "warmup_epochs": 0, "min_votes": 3, "min_photos": 20, "val_fraction": 0.25, "min_val": 6, "split_seed": 0, "seed": 0, "threads": 2,
    }))
    return db_path, base.with_suffix(".onnx"), cfg


@pytest.fixture(autouse=True)
def no_thread_outlives_its_test():
    """A test whose work leaves a thread running (a batch, a viewer job, a pool that was never
    shut down) fails: the program's own rule is that background work has an owner who ends it."""
    import os
    import threading
    import time

    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0  # work that is ending may take a moment
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if os.environ.get("LEAKED_THREADS_REPORT"):
        with open(os.environ["LEAKED_THREADS_REPORT"], "a") as f:
            for t in leaked:
                f.write(f"{os.environ.get('PYTEST_CURRENT_TEST', '?')}\t{t.name}\n")
        return
    assert not leaked, "threads left running: " + ", ".join(t.name for t in leaked)
