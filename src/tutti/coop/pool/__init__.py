"""The pool: every member's accepted plays as Parquet files encrypted under that member's key (``files``)."""
