"""PubMed's MEDLINE format (.nbib, "Send to: Citation manager" / "PubMed" format).

Hand-written on purpose: PyPI's MEDLINE readers are unmaintained or handle
only part of the format (continuation lines, repeated tags, Latin-1 files).
The format is small — "TAG - value" lines, tags padded to four characters,
values continued on lines indented by six spaces, records separated by blank
lines, each starting with PMID — and this reader is tested against real
exports in tests/studies/importing/.
"""

import re

from catalog.models import Notice

from .base import (
    BrokenRecord,
    ImportRefused,
    SourceNotice,
    SourceRecord,
    identifiers_in,
    link_for,
    notice_citing,
    person,
    split_name,
)

TAG = re.compile(r"^[A-Z][A-Z0-9]{1,3}$")
DOI_ID = re.compile(r"^(\S+)\s*\[doi\]$", re.IGNORECASE)
# An article number where a page would be (PLOS "e80092", BMC "1042"),
# tagged [pii] in LID/AID when the record has no PG. Publishers' other PIIs
# ("S0033-3506(15)00037-2") are not page numbers.
ARTICLE_NUMBER = re.compile(r"^([A-Za-z]{0,2}\d{1,9})\s*\[pii\]$", re.IGNORECASE)
PAGE_RANGE = re.compile(r"(\d+)-(\d+)")

# NLM's comment and correction elements (MEDLINE/PubMed data element
# descriptions; the errata and retractions fact sheet). On the paper, the
# notice later published about it: tag → (notice, how PubMed words the link).
# Since 2016 NLM treats a partial retraction as an erratum. Not notices:
# CIN/CON (comments), UIN/UOF (updates), RPI/RPF (reprints), CRF (on the
# corrected version itself).
NOTICE_IN = {
    "RIN": (Notice.RETRACTED, "Retraction in"),
    "ECI": (Notice.CONCERN, "Expression of concern in"),
    "EIN": (Notice.CORRECTED, "Erratum in"),
    "PRIN": (Notice.CORRECTED, "Partial retraction in"),
    "CRI": (Notice.CORRECTED, "Corrected and republished in"),
}
# On a notice's own record (PT Retraction of Publication, Published Erratum,
# Expression of Concern), the paper it is about.
NOTICE_OF = {
    "ROF": (Notice.RETRACTED, "Retraction in"),
    "ECF": (Notice.CONCERN, "Expression of concern in"),
    "EFR": (Notice.CORRECTED, "Erratum in"),
    "PROF": (Notice.CORRECTED, "Partial retraction in"),
}
# The publication type PubMed gives a retracted paper ("Retraction of
# Publication", one word apart, is the notice's own type: see NOTICE_OF).
RETRACTED_TYPE = "retracted publication"


def expand_pages(pages):
    """PubMed's short ranges in full, as Zotero reads them: '6913-7' →
    '6913-6917', '454-81' → '454-481'; other text stays."""

    def full(match):
        first, last = match.group(1), match.group(2)
        if len(last) < len(first):
            last = first[: len(first) - len(last)] + last
        return f"{first}-{last}"

    return PAGE_RANGE.sub(full, pages)


def parse_tag_line(line):
    """('TI', 'value') for a 'TI  - value' line, else None."""
    head = line[:6]
    tag = _tag_of.get(head, False)
    if tag is False:
        tag = None
        if len(head) >= 5 and head[4] == "-" and (len(head) == 5 or head[5] == " "):
            name = head[:4].rstrip()
            if TAG.match(name) and head[:4] == name.ljust(4):
                tag = name
        if len(_tag_of) < 10_000:  # a file of garbage lines can't grow it without end
            _tag_of[head] = tag
    return None if tag is None else (tag, line[6:])


# A line's first six characters → its tag or None: a file has a few dozen
# distinct tags over millions of lines, and checking each took a third of
# reading it.
_tag_of = {}


def records(source):
    number, start, size, tags = 0, None, 0, []
    broken = None
    seen_any = False
    # Older PubMed exports are Latin-1; each line is read as UTF-8 first.
    for line_number, line in source.lines(latin1_fallback=True):
        if not line or line.isspace():
            if start is not None:
                yield broken or SourceRecord(number=number, line=start, data=_fields(tags), size=size)
                start, broken = None, None
            continue
        parsed = parse_tag_line(line)
        if start is None:
            if parsed is None or parsed[0] != "PMID":
                if not seen_any:
                    raise ImportRefused(
                        f"Line {line_number}: this is not a PubMed MEDLINE file — each record starts with "
                        f'"PMID- ", and this line reads {line[:60]!r}.'
                    )
                number += 1
                start, size, tags, broken = (
                    line_number,
                    0,
                    [],
                    BrokenRecord(
                        number, line_number, f'the record on line {line_number} does not start with "PMID- ".'
                    ),
                )
                continue
            number += 1
            seen_any = True
            start, size, tags, broken = line_number, 0, [], None
        size += len(line)
        if parsed is not None:
            tags.append([parsed[0], parsed[1].strip()])
        elif line[:1].isspace() and tags:
            tags[-1][1] = f"{tags[-1][1]} {line.strip()}".strip()
        elif broken is None:
            broken = BrokenRecord(
                number,
                start,
                f'line {line_number} is neither a "TAG - value" line nor an indented continuation: {line[:60]!r}.',
            )
    if start is not None:
        yield broken or SourceRecord(number=number, line=start, data=_fields(tags), size=size)
    if not seen_any:
        raise ImportRefused('The file has no PubMed records (nothing starts with "PMID- ").')


def _fields(tags):
    values = {}
    authors, abbreviated = [], []
    for tag, value in tags:
        if tag == "FAU":
            authors.append(split_name(value))
        elif tag == "CN":
            authors.append(person(value))
        elif tag == "AU":
            abbreviated.append(value)
        else:
            values.setdefault(tag, []).append(value)

    def first(tag):
        return values.get(tag, [""])[0]

    identifiers = values.get("LID", []) + values.get("AID", [])
    doi = next((match.group(1) for match in map(DOI_ID.match, identifiers) if match), "")
    pages = expand_pages(first("PG"))
    if not pages:
        pages = next((match.group(1) for match in map(ARTICLE_NUMBER.match, identifiers) if match), "")
    # PubMed Bookshelf: a chapter has its own TI and the book's BTI; a whole book only BTI.
    book_title = first("BTI")
    chapter = bool(book_title and first("TI"))
    if chapter:
        journal = book_title
    elif book_title:
        journal = ""
    else:
        journal = first("JT") or first("TA")
    kind = ["chapter"] if chapter else (["book"] if book_title else [])
    notices = [
        notice_citing(NOTICE_IN[tag][0], value, relation=NOTICE_IN[tag][1])
        for tag, value in tags
        if tag in NOTICE_IN and value
    ]
    if any(value.strip().lower() == RETRACTED_TYPE for value in values.get("PT", [])):
        notices.append(SourceNotice(Notice.RETRACTED))
    return {
        "title": first("TI") or book_title,
        # "van der Berg J": initials come last.
        "authors": authors or [person(*name.rsplit(" ", 1)) if " " in name else person(name) for name in abbreviated],
        "journal": journal,
        "publisher": first("PB"),
        "date": first("DP"),
        "volume": first("VI"),
        "issue": first("IP"),
        "pages": pages,
        "doi": doi,
        "pmid": first("PMID"),
        "abstract": "\n\n".join(values.get("AB", [])),
        "keywords": values.get("OT", []),
        "types": values.get("PT", []) + kind,
        "notices": notices,
        "notice_for": _notice_for(tags, first, doi),
    }


def _notice_for(tags, first, doi):
    """The papers this record is a notice for (ROF, EFR, ECF, PROF naming a
    PMID or DOI), with this record as the notice's citation: its SO ("J Nutr.
    2021 Mar;151(3):700. doi: …") and PMID, as an RIN line on the paper reads."""
    pmid = first("PMID")
    source = first("SO") or ". ".join(filter(None, [first("TA"), first("DP")]))
    reference = f"{source.rstrip()} PMID: {pmid}." if pmid and f"PMID: {pmid}" not in source else source
    notices = []
    for tag, value in tags:
        if tag in NOTICE_OF:
            kind, relation = NOTICE_OF[tag]
            paper_doi, paper_pmid = identifiers_in(value)
            if paper_doi or paper_pmid:
                cited = notice_citing(kind, reference, relation=relation)
                url = cited.url or link_for(doi, pmid)
                notices.append(SourceNotice(kind, cited.citation, url, doi=paper_doi, pmid=paper_pmid))
    return notices
