"""A fine-tune's child process gets the database URL in its environment, never on its command
line, where any user of the station can read it (ps)."""
from pathlib import Path

from app.core.site.finetune_job import FinetuneJob
from app.core.store.urls import DB_URL_ENV, hide_password

URL = "postgresql+psycopg://inspector:s3cret-pw@db.plant.local/inspector"


def test_the_password_stays_off_the_fine_tune_command_line():
    job = FinetuneJob("python3", URL, Path("/models/m.onnx"), Path("/runs/x"))
    assert not any("s3cret" in arg or "postgresql" in arg for arg in job.command())
    assert job.environment()[DB_URL_ENV] == URL


def test_a_url_shown_anywhere_has_its_password_masked():
    assert "s3cret" not in hide_password(URL) and "inspector:***@db.plant.local" in hide_password(URL)
    assert hide_password("/home/anna/inspector.db") == "/home/anna/inspector.db"
