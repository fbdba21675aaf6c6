"""The pool folder: members' files written, read, counted and removed, as ``tutti.coop.pool.contract`` defines them.

Engines read the pool through pyarrow, which decrypts (``connect`` gives DuckDB a view ``pool`` over a streaming,
hive-partitioned pyarrow dataset). A play's identity is ``tutti.identity``'s, the local store's too, so a newer
export of the same person matches the plays already pooled, and only the rest are added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe
from sqlalchemy.orm import Session

from tutti.coop import staged
from tutti.coop.pool.contract import POOL_SCHEMA, crypto_factory, decryption_properties, encryption_properties
from tutti.coop.settings import CoopSettings

POOL_DIR = "pool"
_PARTITION = "member="


def pool_of(settings: CoopSettings) -> Pool:
    """The pool folder of the cooperative whose settings these are."""
    return Pool(settings.data_dir / POOL_DIR)


@dataclass(frozen=True)
class WrittenFile:
    """A pool file as written: where it is (once its transaction commits), its rows and its size in bytes."""

    path: Path
    rows: int
    bytes: int


@dataclass(frozen=True)
class PoolCounts:
    """Rows per member pseudonym and in total, read from the files' plain footers (no key needed)."""

    per_member: dict[str, int]
    total: int


@dataclass(frozen=True)
class MemberCounts:
    """One member's pooled plays and files, read from the plain footers of their files only (no key needed)."""

    plays: int
    files: int


@dataclass(frozen=True)
class MemberShare:
    """What one member has in the pool: counts, plays per source and the span of their plays (needs their key)."""

    plays: int
    files: int
    by_source: dict[str, int]
    first_play_utc: datetime | None
    last_play_utc: datetime | None


class Pool:
    """The pool folder of one cooperative."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def member_dir(self, pseudonym: str) -> Path:
        if not pseudonym.isalnum():
            raise ValueError("a pseudonym is letters and digits only")
        return self.root / f"{_PARTITION}{pseudonym}"

    def files(self, pseudonym: str) -> list[Path]:
        return sorted(self.member_dir(pseudonym).glob("part-*.parquet"))

    def all_files(self) -> list[Path]:
        """Every pool file in the folder (for reconciling with the catalog; counts come from the catalog)."""
        return sorted(self.root.glob(f"{_PARTITION}*/part-*.parquet"))

    def write(
        self,
        pseudonym: str,
        contribution_id: str,
        plays: pa.Table,
        member_key: bytes,
        *,
        session: Session | None = None,
    ) -> WrittenFile:
        """Add a contribution's plays (``POOL_SCHEMA``) as one encrypted file, written whole or not at all.

        With ``session`` the file appears only when that session commits (``tutti.coop.staged``); the pool's
        catalog (``tutti.coop.pool.catalog.add``) records it in the same transaction.
        """
        path = self.member_dir(pseudonym) / f"part-{contribution_id}.parquet"
        props = encryption_properties(pseudonym, member_key)
        sizes: list[int] = []

        def write(to: Path) -> None:
            pq.write_table(plays.cast(POOL_SCHEMA), to, encryption_properties=props, compression="zstd")
            sizes.append(to.stat().st_size)

        if session is not None:
            staged.write_on_commit(session, path, write)
        else:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            partial = path.with_suffix(".partial")
            write(partial)
            partial.replace(path)
        return WrittenFile(path, plays.num_rows, sizes[-1])

    def member_table(self, pseudonym: str, member_key: bytes, columns: list[str] | None = None) -> pa.Table:
        """Every pooled play of one member (decrypted with their key)."""
        files = self.files(pseudonym)
        if not files:
            return POOL_SCHEMA.empty_table().select(columns or POOL_SCHEMA.names)
        props = decryption_properties({pseudonym: member_key})
        tables = [pq.read_table(f, columns=columns, decryption_properties=props) for f in files]
        return pa.concat_tables(tables)

    def remove_member(self, pseudonym: str, *, session: Session | None = None) -> int:
        """Delete the member's folder; returns how many pool files it held.

        With ``session`` the files leave every listing (and count) at once but are deleted only when that session
        commits; a rollback puts them back (``tutti.coop.staged``).
        """
        folder = self.member_dir(pseudonym)
        parts = self.files(pseudonym)
        if session is not None:
            for path in parts:
                staged.delete_on_commit(session, path)
            if folder.exists():
                staged.delete_folder_on_commit(session, folder)
            return len(parts)
        for path in parts:
            path.unlink()
        for leftover in folder.glob("*") if folder.exists() else ():
            leftover.unlink()
        if folder.exists():
            folder.rmdir()
        return len(parts)

    def footer_counts(self) -> PoolCounts:
        """Rows per member read from the files' plain footers: what the folder itself proves, needing no key."""
        per_member: dict[str, int] = {}
        for path in self.all_files():
            pseudonym = path.parent.name.removeprefix(_PARTITION)
            per_member[pseudonym] = per_member.get(pseudonym, 0) + pq.read_metadata(path).num_rows
        return PoolCounts(per_member, sum(per_member.values()))

    def member_footer_counts(self, pseudonym: str) -> MemberCounts:
        files = self.files(pseudonym)
        return MemberCounts(sum(pq.read_metadata(f).num_rows for f in files), len(files))

    def member_share(self, pseudonym: str, member_key: bytes, counts: MemberCounts) -> MemberShare:
        """The member's plays per source (most first) and first and last play, decrypted with their key."""
        if not counts.plays:
            return MemberShare(0, counts.files, {}, None, None)
        table = self.member_table(pseudonym, member_key, ["source", "start_utc", "end_utc"])
        counted = pc.value_counts(table.column("source")).to_pylist()
        by_source = {str(c["values"]): int(c["counts"]) for c in sorted(counted, key=lambda c: -int(c["counts"]))}
        span = pc.min_max(pc.coalesce(table.column("start_utc"), table.column("end_utc"))).as_py()
        return MemberShare(counts.plays, counts.files, by_source, span["min"], span["max"])

    def dataset(self, keys: Mapping[str, bytes]) -> ds.Dataset:
        """The members' files (those whose keys are given) as one hive-partitioned dataset with a ``member``
        column; decrypted batch by batch as an engine reads it."""
        files = [f for pseudonym in sorted(keys) for f in self.files(pseudonym)]
        return encrypted_dataset(self.root, files, crypto_factory(keys))

    def connect(self, keys: Mapping[str, bytes]) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with a view ``pool`` over the given members' plays."""
        con = duckdb.connect()
        con.register("pool", self.dataset(keys))
        return con


def encrypted_dataset(
    root: Path,
    files: Sequence[Path],
    factory: pe.CryptoFactory,
    connection: pe.KmsConnectionConfig | None = None,
    configuration: pe.DecryptionConfiguration | None = None,
) -> ds.Dataset:
    """Pool files under ``root`` as one hive-partitioned dataset (``POOL_SCHEMA`` and a ``member`` column), each
    batch decrypted as it is read with the keys ``factory``'s client holds: a file whose key it lacks fails."""
    decryption = ds.ParquetDecryptionConfig(
        factory, connection or pe.KmsConnectionConfig(), configuration or pe.DecryptionConfiguration()
    )
    fmt = ds.ParquetFileFormat(
        default_fragment_scan_options=ds.ParquetFragmentScanOptions(decryption_config=decryption)
    )
    partitioning = ds.partitioning(pa.schema([pa.field("member", pa.string())]), flavor="hive")
    schema = POOL_SCHEMA.append(pa.field("member", pa.string()))
    return ds.dataset(
        [str(f) for f in files], schema=schema, format=fmt, partitioning=partitioning, partition_base_dir=str(root)
    )
