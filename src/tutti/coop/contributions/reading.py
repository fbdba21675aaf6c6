"""Reading a contribution: the local store's importers, turned into what the pool may keep.

An upload (a zip as the service delivered it, its folder, or single files) is read by exactly the importers
``tutti import`` uses: ``open_export``, ``detect``, each importer's ``read``. Problems are counted per file.
The plays come back as one Arrow table of ``PLAY_SCHEMA`` (for the checks, which need file names) and are
narrowed to the pool's columns (``tutti.coop.pool.contract``) before anything is stored: no file paths (a folder
can carry a name), no raw platform text (it holds device models and versions), and nothing identifying, which
importers never read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from tutti.errors import TuttiError
from tutti.importers import ReadOptions
from tutti.importers._archive import open_export
from tutti.importers.detect import detect
from tutti.model import IMPLAUSIBLE_KINDS, PLAY_SCHEMA, ImportProblem, PlayBatch, Skipped

_SAMPLE_PROBLEMS = 5


@dataclass
class FileReport:
    """One file of the upload as the member sees it: its name inside the upload, never a local path."""

    name: str
    format: str | None
    plays: int = 0
    problems: int = 0
    implausible: int = 0
    problem_examples: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    unread_reason: str | None = None


@dataclass
class Upload:
    """Everything read from one upload: plays (``PLAY_SCHEMA``), per-file reports, a fatal error if any."""

    table: pa.Table
    files: list[FileReport]
    error: str | None = None

    @property
    def problems(self) -> int:
        return sum(f.problems for f in self.files)

    @property
    def implausible(self) -> int:
        return sum(f.implausible for f in self.files)


def _display(path: str, roots: Sequence[Path]) -> str:
    """The file's name inside the upload: the folder it was saved to is nobody's business."""
    for root in roots:
        prefix = str(root).rstrip("/") + "/"
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path.rsplit("/", 1)[-1]


def read_upload(
    paths: Sequence[Path],
    *,
    now: datetime | None = None,
    roots: Sequence[Path] = (),
    progress: Callable[[int, int], None] | None = None,
    spool: Path | None = None,
) -> Upload:
    """Read every path of one upload with the store's importers; never raises for bad input.

    ``progress(files read, files to read)`` is called as reading moves from one file to the next; zips inside
    the upload's zips are unpacked to unnamed files in ``spool`` (the scratch folder of the work at hand).
    """
    options = ReadOptions(now=now or datetime.now(UTC))
    roots = [*roots, *(p.parent for p in paths)]
    reports: dict[str, FileReport] = {}
    tables: list[pa.Table] = []

    def report(path: str, fmt: str | None) -> FileReport:
        name = _display(path, roots)
        return reports.setdefault(name, FileReport(name, fmt))

    try:
        found = [detect(open_export(path, spool=spool)) for path in paths]
        total = sum(len(entries) for detected in found for _importer, entries in detected.claims)
        started: set[str] = set()

        def reading(file: str) -> None:
            if file not in started:
                started.add(file)
                if progress is not None:
                    progress(len(started) - 1, total)

        for detected in found:
            for unread in detected.unread:
                report(unread.path, None).unread_reason = unread.reason
            for importer, entries in detected.claims:
                for entry in entries:
                    report(entry.path, importer.NAME)
                for item in importer.read(entries, options):
                    if isinstance(item, PlayBatch):
                        reading(item.file)
                        report(item.file, importer.NAME).plays += len(item)
                        tables.append(item.table)
                    elif isinstance(item, ImportProblem):
                        reading(item.file)
                        _count_problem(report(item.file, importer.NAME), item)
                    elif isinstance(item, Skipped):
                        file = report(item.file, importer.NAME)
                        file.skipped[item.reason] = file.skipped.get(item.reason, 0) + item.count
        if progress is not None:
            progress(total, total)
    except TuttiError as exc:
        # A damaged archive or file: the upload as a whole is unusable, and says which file and why.
        message = str(exc)
        for root in roots:
            message = message.replace(str(root) + "/", "").replace(str(root), "")
        return Upload(PLAY_SCHEMA.empty_table(), list(reports.values()), error=message)
    table = pa.concat_tables(tables).cast(PLAY_SCHEMA) if tables else PLAY_SCHEMA.empty_table()
    return Upload(_relative_files(table, roots), list(reports.values()))


def _relative_files(table: pa.Table, roots: Sequence[Path]) -> pa.Table:
    """``source_file`` as the name inside the upload, so no local or temporary path travels further."""
    column = table.column("source_file")
    names = pc.unique(column)
    shown = pa.array([_display(str(n), roots) for n in names.to_pylist()], pa.string())
    index = table.schema.get_field_index("source_file")
    return table.set_column(index, PLAY_SCHEMA.field(index), pc.take(shown, pc.index_in(column, names)))


def _count_problem(file: FileReport, problem: ImportProblem) -> None:
    file.problems += 1
    if problem.kind in IMPLAUSIBLE_KINDS:
        file.implausible += 1
    if len(file.problem_examples) < _SAMPLE_PROBLEMS:
        file.problem_examples.append(f"{problem.record}: {problem.reason}")
