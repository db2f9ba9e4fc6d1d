"""Measurements that print tables (never timed tests). Each script runs as ``python bench/NAME.py``;
nothing imports this package (an import-linter contract), and no script installs anything unless
asked (``--setup``)."""
