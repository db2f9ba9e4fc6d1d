"""Qt-free core of the app (no torch, no Qt), one sub-package per subject:

- ``model/``     the model contract with training, loading and verifying a model, providers, trust;
- ``scoring/``   how a model reads a photo, the ONNX pass, native maps, overlays, one photo scored
                 and stored in the catalogue;
- ``imageio/``   decoding photo files, their canonical names, thumbnails;
- ``ratings/``   labeling sessions, MOS, rater screening, the subject model, selection, CSV in/out;
- ``outputs/``   the scores CSV, the HTML report, atomic writes, review decisions;
- ``site/``      stations following each other, the app's view of training;
- ``store/``     the database (SQLAlchemy + Alembic): schema, repository, migrations;
- ``stats.py``, ``verdict.py``, ``calibration.py``: leaves the rest builds on;
- ``workspace.py`` ties them together for the window and the CLI.

pyproject.toml's import-linter contracts keep the arrows pointing down.
"""
