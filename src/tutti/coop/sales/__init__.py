"""Sales with privacy: what members vote to release (recipes), how it is protected (bounding, k floor, noise and
group selection from OpenDP, pseudonyms of one release), and what a buyer receives (Parquet files and a manifest
with a watermark). A recipe's engine half runs on DuckDB or Spark over the pool table of the members included in a
sale (``tutti.coop.engine``), so consent is the set of keys the release is opened with, and nothing else.
"""
