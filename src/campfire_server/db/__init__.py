"""Storage: the schema, the two database engines and their migrations."""

from .database import Database, Tx, open_database

__all__ = ["Database", "Tx", "open_database"]
