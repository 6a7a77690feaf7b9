"""Reading reference files: RIS, BibTeX, CSL-JSON and PubMed MEDLINE.

``open_records(source, fmt)`` recognises or checks the format and returns the
file and an iterator of ``SourceRecord`` / ``BrokenRecord`` in file order.
Writing studies from them is ``studies.importing.study_import``.
"""

from . import bibtex, csljson, medline, ris
from .base import (
    MAX_FILE_BYTES,
    MAX_RECORD_CHARS,
    BrokenRecord,
    CleanRecord,
    ImportRefused,
    RecordError,
    SourceFile,
    SourceRecord,
    clean_record,
    title_key,
)
from .detect import detect_format

FORMATS = {"ris": ris, "bibtex": bibtex, "csljson": csljson, "medline": medline}
FORMAT_NAMES = {"ris": "RIS", "bibtex": "BibTeX", "csljson": "CSL-JSON", "medline": "PubMed MEDLINE"}

__all__ = [
    "FORMATS", "FORMAT_NAMES", "MAX_FILE_BYTES", "MAX_RECORD_CHARS", "BrokenRecord", "CleanRecord",
    "ImportRefused", "RecordError", "SourceFile", "SourceRecord", "clean_record", "detect_format",
    "open_records", "title_key",
]  # fmt: skip


def open_records(source, fmt="auto"):
    """(SourceFile, format, records). Refuses a file that is empty, too big,
    unrecognised, or not the format it was said to be."""
    if fmt not in ("auto", *FORMATS):
        raise ImportRefused(f"Unknown format {fmt!r}; choose one of auto, {', '.join(FORMATS)}.")
    source_file = SourceFile.open(source)
    try:
        head = source_file.head_text()
        if not head.strip("\ufeff \t\r\n"):
            raise ImportRefused("The file is empty.")
        detected = detect_format(head)
        if fmt == "auto":
            if detected is None:
                raise ImportRefused(
                    "The file's format isn't recognised. Import RIS, BibTeX, CSL-JSON or PubMed MEDLINE (.nbib) files."
                )
            fmt = detected
        elif detected is not None and detected != fmt:
            raise ImportRefused(
                f"The file was said to be {FORMAT_NAMES[fmt]}, but it looks like {FORMAT_NAMES[detected]}. "
                "Choose the right format, or auto."
            )
    except ImportRefused:
        source_file.close()
        raise
    return source_file, fmt, FORMATS[fmt].records(source_file)
