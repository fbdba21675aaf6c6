"""The cooperative: a server that a community of listeners runs and owns. Domain only: no web framework here.

Sub-packages, one purpose each: ``members`` (accounts, tokens, admission, export, withdrawal), ``contributions``
(reading, checking, fingerprinting and scoring an upload), ``pool`` (the members' encrypted Parquet files and
their contract), ``engine`` (pool queries written once in Ibis, run on DuckDB or Spark over the members given),
``audit`` (the signed log), ``jobs`` (background work: the queue, its workers, housekeeping).
Shared underneath them: ``db`` and ``models`` (the cooperative's own database, SQLite by default or PostgreSQL,
whose schema changes only through the Alembic migrations in ``migrations``), ``settings``, ``errors``, ``crypto``
(members' keys), ``staged`` (files that follow the database transaction), ``scratch`` (private folders for work
under way), ``actions`` (who may do what) and ``ratelimit``.
"""
