"""The fault suite's parts (see tests/faults/__main__.py, which runs them, and
tests/test_fault_suite.py, which runs a reduced set in CI):

- corpus.py     odd and damaged files of every class, written by code, with what each must give
- registry.py   what a scenario is, where it is registered, how a command-line run is judged
- score_case.py the shape most scenarios share (one ``score`` run, then checks), as a table row
- scenarios.py  cases through the real command line (identity, hangs, memory, model trust, exits)
- site_trust.py, site_state.py, archive_startup.py  more classes of them (cards, secrets, ratings...)
- dbfaults.py   the database failing mid-batch (lock, read-only, full disk, damage, PG restart)
- kills.py      kill -9 during a batch, the first start, and after each SQL statement of it
- stations.py   2 and 3 stations at once on new and migrated SQLite / PostgreSQL databases
- fuzz.py       mutation fuzzer over seeds of every supported format
- worker.py     the child process that runs load_rgb / score_photo, so hangs and crashes are seen
- tinymodel.py  a hand-built ONNX model honouring the contract (and broken variants of it)
- common.py     counts, the table, running the CLI with a deadline (or finishing a started one),
                reading databases back and judging their rows (one row per photo)
"""
