"""Text files named on a command line, read whole and refused with a CommandError a person can act on."""

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

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

    CSV the reader cannot parse (a cell past its size limit) is a CommandError naming the line.
    """
    reader = csv.reader(io.StringIO(utf8_text(path), newline=""))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise CommandError(f"{path}, line {reader.line_num}: not readable as CSV ({exc})") from None
