"""The pool on Spark (``pip install 'tutti[spark]'``): Spark reads the same encrypted pool files itself, through
Parquet's own key tools, given the pool keys of the job's members and no others.

parquet-mr's ``PropertiesDrivenCryptoFactory`` asks a KMS client to unwrap each file's key-encryption keys under
the master key the file names (the member's pseudonym). The files' wrapping is byte for byte that of parquet-mr's
in-memory KMS (``tutti.coop.pool.contract``), but that client lives only in parquet-hadoop's test jar, which Spark
does not ship, and it keeps its key list in a static field shared by the whole JVM. So the pool brings its own
40-line client (``PoolKeys.java``, built once with the JDK's ``javac`` against Spark's own jars): the same
wrapping through ``KeyToolkit``, the keys kept per instance. Each opened table reads with its own access token,
so parquet-mr's per-token caches of clients and unwrapped keys never carry one job's members into another's.

The key list travels in the read's options; ``spark_session`` redacts it (and the token) from plans and logs.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa
from platformdirs import user_cache_dir

from tutti.coop.engine.source import PoolSource
from tutti.coop.engine.table import POOL_TABLE_SCHEMA, PoolTable, compiled, pool_expression
from tutti.coop.errors import ConfigError
from tutti.coop.pool.contract import pool_key

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

KEY_CLIENT_CLASS = "tutti.engine.PoolKeys"
CRYPTO_FACTORY_CLASS = "org.apache.parquet.crypto.keytools.PropertiesDrivenCryptoFactory"
KEY_LIST_OPTION = "parquet.encryption.key.list"
ACCESS_TOKEN_OPTION = "parquet.encryption.key.access.token"
_JAVA_SOURCE = Path(__file__).with_name("PoolKeys.java")
_SPARK_TYPES = {pa.string(): "STRING", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN"}


def _pyspark() -> Any:
    try:
        import pyspark
    except ImportError:
        raise ConfigError("the Spark engine needs PySpark: pip install 'tutti[spark]'") from None
    return pyspark


def key_client_jar(cache_dir: Path | None = None) -> Path:
    """The pool's key client for Spark, compiled against the installed Spark's jars (once per source and Spark)."""
    pyspark = _pyspark()
    jars = Path(pyspark.__file__).parent / "jars"
    source = _JAVA_SOURCE.read_bytes()
    digest = hashlib.sha256(source + pyspark.__version__.encode()).hexdigest()[:16]
    folder = cache_dir if cache_dir is not None else Path(user_cache_dir("tutti")) / "spark"
    jar = folder / f"pool-keys-{digest}.jar"
    if jar.exists():
        return jar
    java_home = os.environ.get("JAVA_HOME")
    javac = str(Path(java_home) / "bin" / "javac") if java_home else shutil.which("javac")
    jar_tool = str(Path(java_home) / "bin" / "jar") if java_home else shutil.which("jar")
    if not javac or not jar_tool or not Path(javac).exists():
        raise ConfigError("the Spark engine needs a JDK (javac) to build the pool's key client")
    folder.mkdir(parents=True, exist_ok=True)
    build = folder / f"build-{secrets.token_hex(4)}"
    partial = build.with_suffix(".jar")  # its own name: processes building at once never share a file
    try:
        subprocess.run(
            [javac, "--release", "17", "-cp", f"{jars}/*", "-d", str(build), str(_JAVA_SOURCE)],
            check=True,
            capture_output=True,
        )
        subprocess.run([jar_tool, "cf", str(partial), "-C", str(build), "."], check=True, capture_output=True)
        partial.replace(jar)
    except subprocess.CalledProcessError as error:
        raise ConfigError(f"building the pool's key client failed: {error.stderr.decode(errors='replace')}") from None
    finally:
        shutil.rmtree(build, ignore_errors=True)
        partial.unlink(missing_ok=True)
    return jar


def spark_config(jar: Path) -> dict[str, str]:
    """What a Spark application needs to read the pool: the key client on the classpath, Parquet's crypto factory,
    UTC, and key lists and tokens kept out of plans and logs."""
    return {
        "spark.driver.extraClassPath": str(jar),
        "spark.executor.extraClassPath": str(jar),
        "spark.hadoop.parquet.crypto.factory.class": CRYPTO_FACTORY_CLASS,
        "spark.hadoop.parquet.encryption.kms.client.class": KEY_CLIENT_CLASS,
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.redaction.options.regex": r"(?i)url|key\.list|token",
        "spark.redaction.regex": r"(?i)secret|password|token|access[.]?key|key\.list",
    }


def spark_session(
    master: str = "local[2]",
    *,
    shuffle_partitions: int = 2,
    local_dir: Path | None = None,
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """A Spark session that can read the pool (a new one, or the running one if it was made for the pool).

    ``local_dir`` is where Spark spills and shuffles decrypted rows: a job's scratch folder on tmpfs or an
    encrypted volume.
    """
    _pyspark()
    from pyspark.sql import SparkSession

    settings = spark_config(key_client_jar())
    settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    settings["spark.ui.enabled"] = "false"
    if local_dir is not None:
        settings["spark.local.dir"] = str(local_dir)
    settings.update(config or {})
    builder = SparkSession.builder.master(master).appName("tutti-pool")
    for name, value in settings.items():
        builder = builder.config(name, value)
    session = builder.getOrCreate()
    if session.sparkContext.getConf().get("spark.hadoop.parquet.encryption.kms.client.class") != KEY_CLIENT_CLASS:
        raise ConfigError("a Spark session not made by spark_session is running; it cannot read the pool")
    return session


def _ddl_schema() -> str:
    return ", ".join(f"`{f.name}` {_spark_type(f.type)}" for f in POOL_TABLE_SCHEMA)


def _spark_type(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP"
    return _SPARK_TYPES[kind]


def key_list(keys: Mapping[str, bytes]) -> str:
    """``pseudonym:base64(pool key), ...`` for the members whose data keys are given (the key client's input)."""
    return ",".join(f"{p}:{base64.b64encode(pool_key(key)).decode('ascii')}" for p, key in sorted(keys.items()))


def open_spark(source: PoolSource, session: SparkSession) -> PoolTable:
    """The pool table of ``source`` on ``session`` (from ``spark_session``), read with only its members' keys."""
    view = f"pool_{secrets.token_hex(8)}"
    reader = (
        session.read.schema(_ddl_schema())
        .option(KEY_LIST_OPTION, key_list(source.keys))
        .option(ACCESS_TOKEN_OPTION, secrets.token_hex(16))
        .option("basePath", str(source.root))
    )
    paths = [str(p) for p in source.paths]
    frame = reader.parquet(*paths) if paths else session.createDataFrame([], _ddl_schema())
    frame.createOrReplaceTempView(view)

    def run(expr: Any) -> pa.Table:
        sql, schema = compiled(expr, "pyspark")
        # Spark hands timestamps to Arrow without their zone; the session's zone is UTC.
        return session.sql(sql).toArrow().cast(schema)

    kept: list[tuple[str, Any]] = []

    def materialize(expr: Any) -> Any:
        name = f"kept_{secrets.token_hex(8)}"
        sql, _schema = compiled(expr, "pyspark")
        frame = session.sql(sql).persist()
        frame.count()  # computed now, once
        frame.createOrReplaceTempView(name)
        kept.append((name, frame))
        return ibis.table(expr.schema(), name=name)

    def close() -> None:
        for name, frame in kept:
            session.catalog.dropTempView(name)
            frame.unpersist()
        session.catalog.dropTempView(view)

    return PoolTable("spark", pool_expression(view), run, _crypto_failure, close, materialize)


def _crypto_failure(error: BaseException) -> bool:
    """Whether a Spark failure came from Parquet's decryption (a key refused, a key or page that did not open)."""
    java = getattr(error, "java_exception", None)
    while java is not None:
        if java.getClass().getName().startswith("org.apache.parquet.crypto."):
            return True
        java = java.getCause()
    return "org.apache.parquet.crypto." in str(error)
