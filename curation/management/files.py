"""Files named on a command line: those read (--ratings, --votes) whole, those written (--out, --card)
checked before anything is built and written whole or not at all; a problem with either is a
CommandError a person can act on.

A command calls output_path() for each file option while it reads its arguments, so that a path
it could not write to is refused before a release is built or a key rotated, and then writes
with write_output(), which leaves at the path either the old file or the whole new one.
"""

import codecs
import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from django.core.management.base import CommandError

UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def utf8_text(path: Path) -> str:
    """The file's text, decoded as UTF-8 (a leading byte-order mark is dropped), with its newlines as written.

    A file that cannot be opened, or is not UTF-8, is a CommandError naming it; a bad byte is given by its
    offset in the file and its line, so it can be found in an editor.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: cannot open ({exc.strerror})") from exc
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = raw.count(b"\n", 0, offset) + 1
        # Spreadsheets save "Unicode text" as UTF-16, which begins with one of these marks.
        hint = "; it looks like UTF-16" if raw.startswith(UTF16_BOMS) else ""
        raise CommandError(
            f"{path}: not UTF-8 text (byte 0x{raw[offset]:02x} at offset {offset}, line {line}){hint}; save it as UTF-8"
        ) from None


def csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The rows of a UTF-8 CSV file, each with the line it ends on (a quoted cell may span lines).

    CSV the reader cannot parse (a cell past its size limit) is a CommandError naming the line. The
    file is streamed, a row at a time; only a file found not to be UTF-8 is read again, whole, by
    utf8_text to say where its bad byte is.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CommandError(f"{path}: cannot open ({exc.strerror})") from exc
    with handle, io.TextIOWrapper(handle, encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as exc:
            raise CommandError(f"{path}, line {reader.line_num}: not readable as CSV ({exc})") from None
        except UnicodeDecodeError:
            utf8_text(path)  # raises the CommandError that places the bad byte
            raise


def output_path(option: str, path: Path) -> Path:
    """Where `path` (given as `option`) is written, or CommandError saying why it could not be.

    The folder must already exist and be writable, and the path must not be a folder or something
    other than a file (a device such as /dev/null would be replaced by the file, not written to).
    A symbolic link is followed, so that the file it points to is the one replaced.
    """
    target = path.expanduser().resolve()
    folder = target.parent
    if target.is_dir():
        raise CommandError(f"{option}: {path} is a folder; give the path of a file in it")
    if target.exists() and not target.is_file():
        raise CommandError(f"{option}: {path} is not a regular file")
    if not folder.exists():
        raise CommandError(f"{option}: the folder {folder} does not exist (for {path}); create it first")
    if not folder.is_dir():
        raise CommandError(f"{option}: {folder} is not a folder (for {path})")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"{option}: cannot write in the folder {folder} (for {path})")
    return target


def write_output(option: str, target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write `target` through `write` into a file beside it, then put that file in its place.

    Readers of `target` see the old file or the whole new one; if writing fails, the partial file
    is removed and CommandError names the path (a full disk is the user's to fix, not a traceback).
    """
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        with os.fdopen(handle, "wb") as out:
            # mkstemp makes the file readable by its owner only; give it the mode a plain write would.
            os.fchmod(out.fileno(), _mode_for(target))
            write(out)
        os.replace(temporary, target)
    except OSError as exc:
        _remove(temporary)
        raise CommandError(f"{option}: could not write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        _remove(temporary)
        raise


def write_output_text(option: str, target: Path, text: str) -> None:
    write_output(option, target, lambda out: out.write(text.encode("utf-8")))


def _mode_for(target: Path) -> int:
    """The mode of the file replaced, or of a new file under the process's umask."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove(temporary: str | None) -> None:
    if temporary is not None:
        Path(temporary).unlink(missing_ok=True)
