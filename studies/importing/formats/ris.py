"""RIS (Zotero, EndNote, Mendeley, most publishers' "Export citation").

Records are framed here, line by line, so a file of any size streams and a
broken record can be named by number and line; the tags inside a record are
read by rispy, the maintained RIS parser.
"""

import re

import rispy

from .base import BrokenRecord, ImportRefused, SourceRecord, notice_from_note, split_name

# "TY  - JOUR" as the spec writes it; some databases and desktop reference
# managers write one space before the dash ("TY - JOUR"), or none after it.
TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: |$)")
# RIS types that are books and book chapters; everything else carries no study type.
BOOK_TYPES = {"BOOK", "EBOOK", "EDBOOK", "CHAP", "ECHAP"}
CHAPTER_TYPES = {"CHAP", "ECHAP"}
AUTHOR_TAGS = {"AU", "A1"}
# "PMID: 12345" (notes, our exports before 2026) or "PMID:12345".
PMID_NOTE = re.compile(r"^\s*PMID:?\s*(\d{1,10})\s*$", re.IGNORECASE)

_parser = rispy.RisParser(skip_unknown_tags=True)


def records(source):
    number, start, lines, size, done_line = 0, None, [], 0, None
    seen_any = False
    for line_number, line in source.lines():
        match = TAG_LINE.match(line)
        tag = match.group(1) if match else None
        if match and match.end() != 6:
            line = f"{tag}  - {line[match.end() :].lstrip()}"  # the spec's spacing, for rispy
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
    record = _parser.parse_lines(iter(lines))[0]
    # Authors in file order: rispy files A1 and AU apart.
    record["_authors"] = [line[6:].strip() for line in lines if line[:2] in AUTHOR_TAGS and line[6:].strip()]
    return record


def _first(value):
    if isinstance(value, list):
        return value[0] if value else ""
    return value or ""


def _pmid(ris):
    """The PMID where readers put it: AN (accession number) when the record
    comes from PubMed (DB/DP, as EndNote writes it), "PMID: n" in AN or a note."""
    database = f"{ris.get('name_of_database', '')} {ris.get('database_provider', '')}".lower()
    accession = str(_first(ris.get("accession_number")) or "").strip()
    if accession.isdigit() and ("pubmed" in database or "nlm" in database or "medline" in database):
        return accession
    for value in [accession, *(ris.get("notes") or [])]:
        match = PMID_NOTE.match(str(value))
        if match:
            return match.group(1)
    return ""


def _fields(ris):
    kind = (ris.get("type_of_reference") or "").strip().upper()
    start_page, end_page = _first(ris.get("start_page")), _first(ris.get("end_page"))
    pages = f"{start_page}-{end_page}" if start_page and end_page else start_page or end_page
    if not pages:
        pages = _first(ris.get("custom7"))  # C7, "Article Number" (Scopus, EndNote), when there are no pages
    if kind in CHAPTER_TYPES:
        journal = ris.get("secondary_title") or ris.get("alternate_title3") or ""  # T2: the book's title
    elif kind in BOOK_TYPES:
        journal = ""  # T2 is a book's series
    else:
        journal = (
            ris.get("alternate_title3")  # JF
            or ris.get("journal_name")  # JO
            or ris.get("secondary_title")  # T2
            or ris.get("alternate_title2")  # JA
            or ris.get("alternate_title1")  # J2
        )
    types = (["chapter"] if kind in CHAPTER_TYPES else ["book"]) if kind in BOOK_TYPES else []
    if ris.get("type_of_work"):
        types.extend(str(ris["type_of_work"]).split(";"))
    return {
        "title": ris.get("title") or ris.get("primary_title") or ris.get("short_title"),
        "authors": [split_name(name) for name in ris["_authors"]],
        "journal": _first(journal),
        "publisher": _first(ris.get("publisher")),
        "year": ris.get("year"),
        "date": ris.get("date") or ris.get("publication_year"),
        "month": None,
        "volume": _first(ris.get("volume")),
        "issue": _first(ris.get("number")),
        "pages": pages,
        "doi": _first(ris.get("doi")),
        "pmid": _pmid(ris),
        "url": _first(ris.get("urls")),
        "abstract": ris.get("abstract") or ris.get("notes_abstract") or "",
        "keywords": ris.get("keywords") or [],
        "types": types,
        # Our exports' N1 "Retracted: Retraction in: …" (studies.cite).
        "notices": [notice for notice in map(notice_from_note, ris.get("notes") or []) if notice],
    }
