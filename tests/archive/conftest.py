"""Archive tests: a LocalCluster of two worker processes (one thread each), generated photo
folders, and the throwaway PostgreSQL cluster of the store's tests."""
from __future__ import annotations

import numpy as np
import pytest

from tests.core.conftest import postgres_cluster, postgres_url  # noqa: F401  (fixtures)

pytest.importorskip("distributed")


def make_folder(root, n: int, sizes=((160, 120), (200, 150)), bad: int = 1):
    """``n`` small photo-like JPEGs/PNGs in two sub-folders, plus ``bad`` broken files and a
    note that is not a photo. Returns the number of photo-named files."""
    from PIL import Image

    rng = np.random.default_rng(n)
    for i in range(n):
        w, h = sizes[i % len(sizes)]
        sub = root / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        base = np.linspace(40, 200, w, dtype=np.float32)[None, :, None] + rng.normal(0, 4 + i % 9 * 4, (h, w, 3))
        img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
        img.save(sub / (f"p{i:04d}.jpg" if i % 3 else f"p{i:04d}.png"), quality=90)
    for j in range(bad):
        (root / "a" / f"broken{j}.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "notes.txt").write_text("not a photo")
    return n + bad


@pytest.fixture(scope="module")
def dask_client():
    """Two worker processes with nannies: a worker killed is restarted, its chunk run again."""
    from app.archive.run import start_client

    client, _ = start_client(None, 2)
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    cluster = request.getfixturevalue("postgres_cluster")
    return cluster.new_database(f"archive_{abs(hash(request.node.name)) % 10**8}")


@pytest.fixture(scope="session")
def second_student(tmp_path_factory, exported_student):
    """Another shipped version (other weights): what a supervisor switches the site to."""
    torch = pytest.importorskip("torch")
    from models import create_model
    from tests.conftest import ship_for_tests
    from training.export import export_model

    torch.manual_seed(1)
    model = create_model("student", weights=None).eval()
    onnx_path, card_path = export_model(model, tmp_path_factory.mktemp("models2") / "tiny2")
    ship_for_tests(card_path)
    return onnx_path, card_path
