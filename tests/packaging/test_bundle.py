"""Build the PyInstaller bundle and run the frozen program's self-test (about a minute)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.bundle
def test_the_frozen_bundle_scores_the_sample_without_torch(tmp_path):
    pyinstaller = shutil.which("pyinstaller", path=str(Path(sys.executable).parent))
    if pyinstaller is None:
        pytest.skip("pyinstaller is not installed")
    dist, work = tmp_path / "dist", tmp_path / "work"
    build = subprocess.run(
        [pyinstaller, str(ROOT / "build.spec"), "--noconfirm", "--distpath", str(dist), "--workpath", str(work)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    bundle = dist / "mobileiqa-inspector"
    internal = bundle / "_internal"
    assert not list(internal.glob("torch*")), "torch leaked into the bundle"
    run = subprocess.run([str(bundle / "mobileiqa-inspector"), "--self-test"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "self-test passed" in run.stderr and "parrots_kodak23.png: ok" in run.stdout

    # Fine-tuning from the bundle: its pipeline sources run in a Python that has torch.
    pipeline = internal / "pipeline"
    where = subprocess.run([sys.executable, "-c", "import training.finetune, app.core.ratings.session; print(training.__file__)"],
                           capture_output=True, text=True, timeout=300, cwd=pipeline)
    assert where.returncode == 0, where.stderr[-2000:]
    assert Path(where.stdout.strip()).is_relative_to(pipeline)
    assert (internal / "resources" / "models" / "teacher.pt").exists()
    assert (pipeline / "requirements" / "training.txt").exists()  # what the install hint names
