"""The cooperative: members, their keys, onboarding, contributions and the signed audit log.

Domain only: no web framework is imported here. The database is the cooperative's own (SQLite by default,
PostgreSQL with a URL), reached through ``tutti.coop.db``; its schema changes only through the Alembic
migrations shipped in ``tutti.coop.migrations``.
"""
