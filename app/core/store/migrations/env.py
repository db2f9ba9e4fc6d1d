"""Alembic environment: run by app.core.store.database.upgrade on a live connection.

Every station runs the migrations when it starts, so they must be all-or-nothing (a kill -9 in the
middle leaves the previous schema, not half of the next) and one station at a time (two starting
together on a new database must not both create the same tables)."""
from alembic import context
from sqlalchemy import text

from app.core.store.schema import Base

MIGRATION_LOCK = 0x4D495141  # "MIQA": the advisory lock every station takes on PostgreSQL

connection = context.config.attributes["connection"]
if connection.dialect.name == "sqlite":
    # pysqlite's legacy transaction handling sends BEGIN only before INSERT/UPDATE/DELETE, so each
    # CREATE TABLE would commit on its own. Begin ourselves: SQLite's DDL is transactional.
    # IMMEDIATE takes the write lock now, so a second station waits (busy timeout) until this one
    # commits, then reads the version already at head and does nothing.
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
elif connection.dialect.name == "postgresql":
    # Its DDL is transactional already; the lock (held until commit) keeps the stations in turn.
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
