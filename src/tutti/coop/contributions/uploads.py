"""Uploads waiting for their validation: the uploaded files, sealed with the member's key beside the database.

The request that receives an upload packs its files (under their names, in a zip without compression: exports
are compressed already, or are JSON the importers read at once) and seals the pack with ``crypto.encrypt_blob``;
the validation job unseals it into a private scratch folder. A sealed upload is deleted when its contribution is
decided; housekeeping removes any whose contribution is no longer pending.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tutti.coop import crypto
from tutti.coop.contributions.sealing import member_folder
from tutti.coop.errors import InvalidInput
from tutti.coop.settings import CoopSettings

UPLOAD_SUFFIX = ".upload"


@dataclass(frozen=True)
class SealedUpload:
    """An upload's files packed and sealed; ``files`` and ``size`` (plain bytes) describe what is inside."""

    data: bytes = field(repr=False)
    files: int
    size: int


def upload_path(settings: CoopSettings, member_id: str, contribution_id: str) -> Path:
    return member_folder(settings, member_id) / f"{contribution_id}{UPLOAD_SUFFIX}"


def seal(paths: Sequence[Path], key: bytes) -> SealedUpload:
    """Pack the files at ``paths`` (distinct names) and seal the pack with the member's ``key``."""
    names = [path.name for path in paths]
    if len(set(names)) != len(names):
        raise InvalidInput("two files of the upload have the same name")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as pack:
        for path in paths:
            pack.write(path, arcname=path.name)
    return SealedUpload(crypto.encrypt_blob(key, out.getvalue()), len(paths), sum(p.stat().st_size for p in paths))


def unseal(sealed: bytes, key: bytes, folder: Path) -> list[Path]:
    """Open a sealed upload into ``folder``; the paths of its files, in the order they were sealed.

    DecryptionFailed when it does not open with ``key``. The pack is authenticated, so its names are the ones
    ``seal`` wrote; they are still checked to be plain file names.
    """
    paths = []
    with zipfile.ZipFile(io.BytesIO(crypto.decrypt_blob(key, sealed))) as pack:
        for info in pack.infolist():
            name = Path(info.filename).name
            if name != info.filename or name.startswith("."):
                raise InvalidInput("a sealed upload holds a file name that is not plain")
            target = folder / name
            with pack.open(info) as src, target.open("wb") as dst:
                while chunk := src.read(1024**2):
                    dst.write(chunk)
            paths.append(target)
    return paths
