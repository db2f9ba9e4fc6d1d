import subprocess
import sys

import numpy as np
from PIL import Image

from app.__main__ import main


def test_score_prints_each_photo_and_reports_bad_ones_without_failing(exported_student, tmp_path, capsys):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)).save(tmp_path / "good.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    code = main(["--model", str(exported_student[1]), "score", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0
    good = next(line for line in out.splitlines() if "good.png" in line)
    assert 0 <= float(good.split("\t")[1]) <= 100
    assert "broken.jpg\tERROR" in out
    assert "1 scored, 1 failed" in err


def test_a_bad_model_is_a_usage_error(tmp_path, capsys):
    assert main(["--model", str(tmp_path), "score", str(tmp_path)]) == 2
    assert "no model card" in capsys.readouterr().err


def test_without_a_display_the_program_says_how_to_run_headless():
    env = {"PATH": "/usr/bin:/bin"}  # no DISPLAY, no QT_QPA_PLATFORM
    result = subprocess.run([sys.executable, "-m", "app"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "No display found" in result.stderr and "score" in result.stderr


def test_the_app_never_loads_torch():
    code = "import sys, app.__main__, app.cli, app.ui.main_window; print('torch' in sys.modules or 'timm' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
