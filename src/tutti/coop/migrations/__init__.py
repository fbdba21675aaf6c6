"""Alembic migrations of the cooperative's database, applied by ``tutti.coop.db.upgrade``."""
