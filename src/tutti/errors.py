"""The one family of errors a user may see.

    TuttiError                 anything Tutti refuses, said in one sentence
     +-- ExportError           an export (zip, folder, file) cannot be read at all
     |    +-- RecordError      one record of a file cannot be read; names the file and the record
     +-- StoreError            the local store cannot be opened or written
     +-- UsageError            a command was asked something that makes no sense (unknown profile, bad period)

The CLI prints ``error: <message>`` and exits 1; no traceback is shown for bad input.
"""

from __future__ import annotations


class TuttiError(Exception):
    """Base of every error that is the input's fault, not a bug."""


class ExportError(TuttiError):
    """An export or one of its files cannot be read."""

    def __init__(self, file: str, reason: str) -> None:
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: {reason}")


class RecordError(ExportError):
    """One record of a file is unreadable; ``record`` names it ("record 12", "line 40")."""

    def __init__(self, file: str, record: str, reason: str) -> None:
        self.record = record
        super().__init__(file, f"{record}: {reason}")


class StoreError(TuttiError):
    """The local store cannot be opened or changed."""


class UsageError(TuttiError):
    """A command was given something it cannot act on."""
