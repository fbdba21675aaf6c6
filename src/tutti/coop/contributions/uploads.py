"""Uploads waiting for their validation: the uploaded files, sealed with the member's key beside the database.

The request that receives an upload packs its files (under their names, in a zip without compression: exports
are compressed already, or are JSON the importers read at once) and seals the pack as it is written, chunk by
chunk (``crypto.sealing``), into a file: memory does not grow with the upload. The validation job unseals it,
again chunk by chunk, into a private scratch folder. A sealed upload is deleted when its contribution is
decided; housekeeping removes any whose contribution is no longer pending. Uploads sealed whole, before
sealing was streamed, still open.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tutti.coop import crypto
from tutti.coop.contributions.sealing import member_folder
from tutti.coop.errors import InvalidInput
from tutti.coop.settings import CoopSettings

UPLOAD_SUFFIX = ".upload"
_PACK = ".pack.zip"  # where an upload is unsealed to before its files are taken out; never a plain file name
_COPY_CHUNK = 1024**2


@dataclass(frozen=True)
class SealedUpload:
    """An upload's files packed and sealed into the file at ``path``; ``files`` and ``size`` (plain bytes)
    describe what is inside."""

    path: Path
    files: int
    size: int


def upload_path(settings: CoopSettings, member_id: str, contribution_id: str) -> Path:
    return member_folder(settings, member_id) / f"{contribution_id}{UPLOAD_SUFFIX}"


def seal(paths: Sequence[Path], key: bytes, out: Path) -> SealedUpload:
    """Pack the files at ``paths`` (distinct names) and seal the pack with the member's ``key`` into ``out``."""
    names = [path.name for path in paths]
    if len(set(names)) != len(names):
        raise InvalidInput("two files of the upload have the same name")
    with out.open("wb") as fp:
        sealed = crypto.sealing(key, fp)
        # The sealing stream cannot seek: zipfile writes each member's sizes after its bytes.
        with zipfile.ZipFile(sealed, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as pack:
            for path in paths:
                pack.write(path, arcname=path.name)
        sealed.close()
    return SealedUpload(out, len(paths), sum(p.stat().st_size for p in paths))


def unseal(sealed: Path, key: bytes, folder: Path) -> list[Path]:
    """Open the sealed upload at ``sealed`` into ``folder``; the paths of its files, in the order they were
    sealed.

    DecryptionFailed when it does not open with ``key`` (or was altered). The pack is authenticated, so its
    names are the ones ``seal`` wrote; they are still checked to be plain file names.
    """
    pack_path = folder / _PACK
    try:
        with sealed.open("rb") as src, pack_path.open("wb") as dst:
            for chunk in crypto.unsealing(key, src):
                dst.write(chunk)
        return _unpack(pack_path, folder)
    finally:
        pack_path.unlink(missing_ok=True)


def _unpack(pack_path: Path, folder: Path) -> list[Path]:
    paths = []
    with zipfile.ZipFile(pack_path) as pack:
        for info in pack.infolist():
            name = Path(info.filename).name
            if name != info.filename or name.startswith("."):
                raise InvalidInput("a sealed upload holds a file name that is not plain")
            target = folder / name
            with pack.open(info) as src, target.open("wb") as dst:
                while chunk := src.read(_COPY_CHUNK):
                    dst.write(chunk)
            paths.append(target)
    return paths
