"""The files one import reads: a single file, every data file of a folder, or every member of a zip.

A zip is unpacked into a scratch folder under limits checked while its bytes are read, never from
what its headers claim: how many members, how many bytes in all, how much each member expands.
A member whose path leaves the folder (absolute, `..`) or that is a link refuses the whole zip.
"""

import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings

from curation.formats.naming import is_checkpoint_copy, is_generic

DATA_SUFFIXES = (".json", ".jsonl", ".csv")


class BatchRefused(Exception):
    """The folder or zip cannot be read safely or holds nothing to import; the message says why."""


@dataclass
class ImportSource:
    """One file of an import, and how it is read: the reading, the column mapping, the model."""

    path: Path
    name: str  # as the person knows it: the file name, or the member's path inside the zip or folder
    depth: int = 0  # directories of `name` inside the batch, for naming the model from the path
    format: str = ""
    mapping: dict[str, str] = field(default_factory=dict)
    model_name: str = ""
    model_from: str = ""  # "the import", "the records" or "the path"
    unit: str = "line"
    report: dict[str, Any] = field(default_factory=dict)
    path_hint: str = ""  # the path that names the model when the file name does not; default `name`


def zip_limits() -> tuple[int, int, int]:
    """Members, total uncompressed bytes, and the largest expansion ratio a zip may have."""
    return (
        int(getattr(settings, "CONCORD_IMPORT_ZIP_MAX_MEMBERS", 200)),
        int(getattr(settings, "CONCORD_IMPORT_ZIP_MAX_BYTES", settings.CONCORD_IMPORT_MAX_BYTES)),
        int(getattr(settings, "CONCORD_IMPORT_ZIP_MAX_RATIO", 100)),
    )


def is_zip(path: Path, file_name: str) -> bool:
    return file_name.lower().endswith(".zip") or zipfile.is_zipfile(path)


def _skipped_reason(name: str) -> str:
    parts = PurePosixPath(name).parts
    if any((part.startswith(".") and part != ".ipynb_checkpoints") or part == "__MACOSX" for part in parts):
        return "hidden or system file"
    if is_checkpoint_copy(name):
        return "a notebook's checkpoint copy of another file"
    if not name.lower().endswith(DATA_SUFFIXES):
        return "not a .json, .jsonl or .csv file"
    return ""


def _safe_member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
        raise BatchRefused(f"The zip member {info.filename!r} points outside the zip; nothing was imported.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise BatchRefused(f"The zip member {info.filename!r} is a link; nothing was imported.")
    return name


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int, ratio: int) -> int:
    """Copy one member, counting its bytes as they come; returns how many were written."""
    written = 0
    allowed = min(budget, max(info.compress_size, 1) * ratio)
    with archive.open(info) as source, open(target, "wb") as out:
        while chunk := source.read(1 << 16):
            written += len(chunk)
            if written > allowed:
                why = "expands more than the zip limits allow" if written <= budget else "takes the zip past its size"
                raise BatchRefused(
                    f"The zip member {info.filename!r} {why} (settings CONCORD_IMPORT_ZIP_MAX_BYTES, "
                    "CONCORD_IMPORT_ZIP_MAX_RATIO); nothing was imported."
                )
            out.write(chunk)
    return written


def sources_of_zip(path: Path, into: Path) -> tuple[list[ImportSource], list[dict[str, str]]]:
    """Unpack the zip's data files into `into`: the sources, and the members left out with why."""
    max_members, max_bytes, ratio = zip_limits()
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BatchRefused(f"The file is not a readable zip ({exc}).") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > max_members:
            raise BatchRefused(
                f"The zip holds {len(members):,} files; at most {max_members:,} are read "
                "(setting CONCORD_IMPORT_ZIP_MAX_MEMBERS). Split it."
            )
        sources, left_out, total = [], [], 0
        for number, info in enumerate(members, start=1):
            name = _safe_member_name(info)
            if reason := _skipped_reason(name):
                left_out.append({"name": name, "reason": reason})
                continue
            target = into / f"{number:04d}-{PurePosixPath(name).name}"
            total += _copy_member(archive, info, target, max_bytes - total, ratio)
            sources.append(ImportSource(path=target, name=name, depth=len(PurePosixPath(name).parts) - 1))
    if not sources:
        raise BatchRefused("The zip holds no .json, .jsonl or .csv file to import.")
    name_models_by_directory(sources)
    return sources, left_out


def sources_of_folder(folder: Path) -> tuple[list[ImportSource], list[dict[str, str]]]:
    sources, left_out = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if reason := _skipped_reason(name):
            left_out.append({"name": f"{folder.name}/{name}", "reason": reason})
        else:
            # The folder's own name counts: `import_items alpaca-7b/` with `iCliniq/seed_0.json` inside.
            sources.append(ImportSource(path=path, name=f"{folder.name}/{name}", depth=name.count("/") + 1))
    if not sources:
        raise BatchRefused(f"The folder {folder} holds no .json, .jsonl or .csv file to import.")
    name_models_by_directory(sources)
    return sources, left_out


def name_models_by_directory(sources: list[ImportSource]) -> None:
    """For files whose names say nothing (seed_0.json), the directory level that tells the files apart
    names the model: in `runs/<model>/<eval set>/seed_0.json` it is the second. Failing that, each file
    is named as a file given alone would be (its grandparent, else its parent)."""
    generic = [source for source in sources if is_generic(PurePosixPath(source.name).name)]
    paths = [PurePosixPath(source.name).parts[:-1] for source in generic]
    level = next(
        (i for i in range(max(map(len, paths), default=0)) if len({p[i] if i < len(p) else "" for p in paths}) > 1),
        None,
    )
    for source, directories in zip(generic, paths, strict=True):
        if level is not None and level < len(directories) and not is_generic(directories[level]):
            source.path_hint, source.depth = f"{directories[level]}/{PurePosixPath(source.name).name}", 1
        else:
            source.path_hint, source.depth = source.name, 0
