"""RIS (Zotero, EndNote, Mendeley, most publishers' "Export citation").

Records are framed here, line by line, so a file of any size streams and a
broken record can be named by number and line; the tags inside a record are
read by rispy, the maintained RIS parser.
"""

import re

import rispy

from .base import BrokenRecord, ImportRefused, SourceRecord, split_name

TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")
# RIS types that are books; everything else carries no study type.
BOOK_TYPES = {"BOOK", "EBOOK", "EDBOOK", "CHAP", "ECHAP"}

_parser = rispy.RisParser(skip_unknown_tags=True)


def records(source):
    number, start, lines, size, done_line = 0, None, [], 0, None
    seen_any = False
    for line_number, line in source.lines():
        match = TAG_LINE.match(line)
        tag = match.group(1) if match else None
        if start is None:
            if tag == "TY":
                number += 1
                start, lines, size, seen_any = line_number, [line], len(line), True
            elif line.strip():
                if not seen_any:
                    raise ImportRefused(
                        f"Line {line_number}: this is not a RIS file — a RIS record starts with "
                        f'"TY  - ", and this line reads {line[:60]!r}.'
                    )
                yield BrokenRecord(
                    number,
                    line_number,
                    f"line {line_number} is outside any record (after the ER that ended "
                    f"record {number} on line {done_line}).",
                )
            continue
        if tag == "TY":
            yield BrokenRecord(
                number,
                start,
                f"the record starting on line {start} has no end (ER) before the next record "
                f"starts on line {line_number}.",
            )
            number += 1
            start, lines, size = line_number, [line], len(line)
            continue
        lines.append(line)
        size += len(line)
        if tag == "ER":
            yield SourceRecord(number=number, line=start, data=_fields(_parse(lines)), size=size)
            start, done_line = None, line_number
    if start is not None:
        yield BrokenRecord(
            number, start, f"the record starting on line {start} has no end (ER) — the file is cut short."
        )
    if not seen_any:
        raise ImportRefused('The file has no RIS records (nothing starts with "TY  - ").')


def _parse(lines):
    return _parser.parse_lines(iter(lines))[0]


def _first(value):
    if isinstance(value, list):
        return value[0] if value else ""
    return value or ""


def _fields(ris):
    kind = (ris.get("type_of_reference") or "").strip().upper()
    start_page, end_page = _first(ris.get("start_page")), _first(ris.get("end_page"))
    pages = f"{start_page}-{end_page}" if start_page and end_page else start_page or end_page
    database = f"{ris.get('name_of_database', '')} {ris.get('database_provider', '')}".lower()
    accession = str(ris.get("accession_number") or "").strip()
    journal = (
        ris.get("alternate_title3")  # JF
        or ris.get("journal_name")  # JO
        or (ris.get("secondary_title") if kind not in BOOK_TYPES else "")  # T2
        or ris.get("alternate_title2")  # JA
        or ris.get("alternate_title1")  # J2
    )
    types = ["book"] if kind in BOOK_TYPES else []
    if ris.get("type_of_work"):
        types.extend(str(ris["type_of_work"]).split(";"))
    return {
        "title": ris.get("title") or ris.get("primary_title") or ris.get("short_title"),
        "authors": [split_name(name) for name in (ris.get("authors") or []) + (ris.get("first_authors") or [])],
        "journal": _first(journal),
        "year": ris.get("year"),
        "date": ris.get("date") or ris.get("publication_year"),
        "month": None,
        "volume": _first(ris.get("volume")),
        "issue": _first(ris.get("number")),
        "pages": pages,
        "doi": _first(ris.get("doi")),
        "pmid": accession if accession.isdigit() and ("pubmed" in database or "nlm" in database) else "",
        "url": _first(ris.get("urls")),
        "abstract": ris.get("abstract") or ris.get("notes_abstract") or "",
        "keywords": ris.get("keywords") or [],
        "types": types,
    }
