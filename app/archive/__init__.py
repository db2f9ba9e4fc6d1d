"""Archive scoring: every photo under some roots, scored on Dask distributed workers into the
shared database (``python -m app archive score|status``). Qt-free; Dask is an optional extra
(requirements/archive.txt) imported only when a run starts."""
