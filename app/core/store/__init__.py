"""Persistence: SQLAlchemy ORM schema, Alembic migrations, and the repository the app calls."""
from .database import Database, open_database

__all__ = ["Database", "open_database"]
