import numpy as np
from PIL import Image

from app.core.scoring.photo import score_batch
from app.core.scoring.engine import Engine
from app.core.model.loader import load_model
from app.core.outputs.report import write_report
from app.core.verdict import Thresholds
from app.core.store import open_database
from app.core.store.repository import register_model, score_rows


def test_report_has_counts_histogram_worst_photos_and_errors(exported_student, tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(4):
        p = tmp_path / f"p{i}.png"
        Image.fromarray(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    (tmp_path / "<i>bad.jpg").write_bytes(b"not a photo")
    paths.append(tmp_path / "<i>bad.jpg")
    model = load_model(exported_student[1])
    db = open_database(tmp_path / "r.db")
    mv = register_model(db, model.card, str(model.onnx_path))
    engine = Engine(model)
    score_batch(paths, engine, db, mv)
    out = write_report(score_rows(db, mv), engine, Thresholds(60, 40), tmp_path / "report.html", worst=3)
    text = out.read_text()
    assert "<td>5</td>" in text  # photos
    assert text.count("data:image/png;base64,") == 1 + 3 * 3  # histogram + 3 photos x 3 panels
    assert "&lt;i&gt;bad.jpg" in text and "<i>bad" not in text  # file names are escaped
    db.close()
