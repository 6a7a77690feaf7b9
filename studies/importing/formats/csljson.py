"""CSL-JSON (Zotero "CSL JSON", citation.js, pandoc, our own cite.json).

A JSON array of items. The standard json module reads one item at a time
from the text (raw_decode), so each item keeps its line number and a broken
item is named rather than the whole file failing with a byte offset.
"""

import json

from catalog.models import Notice

from .base import (
    NOTICE_OF_LABEL,
    BrokenRecord,
    ImportRefused,
    SourceNotice,
    SourceRecord,
    link_for,
    notice_from_note,
    split_name,
)

WHITESPACE = " \t\r\n"
# CSL types that are our books and chapters; the rest carry a type only in "genre".
KINDS = {"book": "book", "chapter": "chapter"}
# Crossref's update types (Crossmark), as CSL-JSON from Crossref carries them:
# "updated-by" on the paper, "update-to" on the notice (Crossref REST API
# format, "Update"). Additions, clarifications, new versions are not notices.
CROSSREF_UPDATES = {
    "retraction": Notice.RETRACTED,
    "withdrawal": Notice.RETRACTED,
    "removal": Notice.RETRACTED,
    "expression_of_concern": Notice.CONCERN,
    "correction": Notice.CORRECTED,
    "erratum": Notice.CORRECTED,
    "corrigendum": Notice.CORRECTED,
    "partial_retraction": Notice.CORRECTED,
}


def records(source):
    text = source.read_text().lstrip("\ufeff")
    decoder = json.JSONDecoder()
    position = _skip(text, 0)
    if position == len(text):
        raise ImportRefused("The file is empty.")
    line = text.count("\n", 0, position) + 1
    if text[position] == "{":
        # One item on its own, as some tools write a single reference.
        item, end = _decode(decoder, text, position, 1, line)
        if isinstance(item, BrokenRecord):
            raise ImportRefused(f"Line {line}: this is not CSL-JSON: {item.message}")
        works = _crossref_works(item)
        if works is not None:
            for number, work in enumerate(works, 1):
                yield _record(work, number, line, (end - position) // max(len(works), 1))
            return
        yield _record(item, 1, line, end - position)
        return
    if text[position] != "[":
        raise ImportRefused(
            f"Line {line}: this is not a CSL-JSON file — it should be a JSON list of items "
            f"and starts with {text[position : position + 40]!r}."
        )
    position, number, counted_to = _skip(text, position + 1), 0, 0
    while True:
        if position >= len(text):
            raise ImportRefused(f"Line {line}: the list of items is not closed with ] — the file is cut short.")
        if text[position] == "]":
            break
        number += 1
        line += text.count("\n", counted_to, position)
        counted_to = position
        item, end = _decode(decoder, text, position, number, line)
        if isinstance(item, BrokenRecord):
            yield item
            return  # after a syntax error the rest can't be found reliably
        if not isinstance(item, dict):
            yield BrokenRecord(number, line, f"item {number} is a JSON {type(item).__name__}, not an object.")
        else:
            yield _record(item, number, line, end - position)
        source.bytes_read = end  # progress: characters stand in for bytes
        position = _skip(text, end)
        if position < len(text) and text[position] == ",":
            position = _skip(text, position + 1)
        elif position < len(text) and text[position] != "]":
            line += text.count("\n", counted_to, position)
            counted_to = position
            yield BrokenRecord(number + 1, line, f"line {line}: expected , or ] after item {number}.")
            return
    if _skip(text, position + 1) != len(text):
        line += text.count("\n", counted_to, position)
        raise ImportRefused(f"Line {line}: there is more text after the end of the list.")


def _crossref_works(item):
    """The works of a Crossref REST API answer ({"message-type": "work",
    "message": {…}}, or a "work-list" of "items"), which is CSL-JSON inside
    an envelope; None for anything else."""
    if not isinstance(item, dict) or not isinstance(item.get("message"), dict):
        return None
    kind = str(item.get("message-type") or "")
    if kind == "work":
        return [item["message"]]
    if kind == "work-list":
        return [work for work in item["message"].get("items") or [] if isinstance(work, dict)]
    return None


def _skip(text, position):
    while position < len(text) and text[position] in WHITESPACE:
        position += 1
    return position


def _decode(decoder, text, position, number, line):
    try:
        return decoder.raw_decode(text, position)
    except json.JSONDecodeError as exc:
        return BrokenRecord(
            number, exc.lineno, f"it is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ), position


def _date(item, key):
    parts = (item.get(key) or {}).get("date-parts") or [[]]
    first = parts[0] if parts and isinstance(parts[0], list) else []
    year = first[0] if len(first) > 0 else None
    month = first[1] if len(first) > 1 else None
    if year is None and (item.get(key) or {}).get("raw"):
        return None, None, item[key]["raw"]
    return year, month, ""


def _text(value):
    """A scalar as text; the first of a list (CSL allows both in places)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value) if isinstance(value, (str, int, float)) else ""


def _record(item, number, line, size):
    year, month, raw_date = None, None, ""
    for key in ("issued", "published-print", "published-online"):
        if isinstance(item.get(key), dict):
            year, month, raw_date = _date(item, key)
            if year or raw_date:
                break
    authors = []
    # An edited book or proceedings has editors only: they stand as its authors.
    for author in item.get("author") or item.get("editor") or []:
        if not isinstance(author, dict):
            continue
        if author.get("literal"):
            literal = _text(author["literal"])
            authors.append(split_name(literal) if "," in literal else {"family": literal, "given": ""})
        else:
            family = " ".join(filter(None, [_text(author.get("non-dropping-particle")), _text(author.get("family"))]))
            authors.append({"family": family, "given": _text(author.get("given"))})
    kind = KINDS.get(str(item.get("type") or "").lower())
    genre = _text(item.get("genre"))
    updated_by, update_to = _directed_updates(item)
    keywords = item.get("keyword") or item.get("keywords") or []
    keywords = [_text(k) for k in keywords] if isinstance(keywords, list) else _text(keywords)
    return SourceRecord(
        number=number,
        line=line,
        size=size,
        data={
            "title": _text(item.get("title")),
            "authors": authors,
            "journal": "" if kind == "book" else _text(item.get("container-title")),
            "publisher": _text(item.get("publisher")),
            "year": year,
            "month": month,
            "date": raw_date,
            "volume": _text(item.get("volume")),
            "issue": _text(item.get("issue")),
            "pages": _text(item.get("page")),
            "doi": _text(item.get("DOI") or item.get("doi")),
            "pmid": _text(item.get("PMID") or item.get("pmid")),
            "url": _text(item.get("URL") or item.get("url")),
            "abstract": _text(item.get("abstract")),
            "keywords": keywords,
            "types": ([kind] if kind else []) + ([genre] if genre else []),
            "notices": _notices(item, updated_by),
            "notice_for": _notice_for(item, year, update_to),
        },
    )


def _updates(item, key):
    """[(notice kind, DOI, date "2010-02-06" or "", source, relation)] of
    Crossref's ``key`` ("updated-by", "update-to") entries that are notices;
    the relation as a citation starts, from the type: "Partial retraction in"."""
    found = []
    for update in item.get(key) or []:
        if not isinstance(update, dict):
            continue
        update_type = _text(update.get("type")).strip().lower().replace("-", "_").replace(" ", "_")
        kind = CROSSREF_UPDATES.get(update_type)
        doi = _text(update.get("DOI") or update.get("doi")).strip().lower()
        if kind and doi:
            updated = update.get("updated") if isinstance(update.get("updated"), dict) else {}
            parts = (updated.get("date-parts") or [[]])[0] or []
            date = "-".join(f"{int(part):02d}" for part in parts if str(part).isdigit())
            relation = update_type.replace("_", " ").capitalize() + " in"
            found.append((kind, doi, date, _text(update.get("source")).strip().lower(), relation))
    return found


def _directed_updates(item):
    """(updated_by, update_to): the notices about this item and the papers
    this item is a notice for, read the right way round.

    A publisher may deposit a relation both ways on one record (Elsevier's
    notices carry "updated-by" naming the paper they retract, and the paper
    "update-to" naming its notices): read naively, the notice is retracted and
    the paper retracts its notices. Retraction Watch's entries (source
    "retraction-watch") are deposited on the right side, so where a DOI is in
    both lists and Retraction Watch says which side this record is, the
    other side's entries for that DOI are set aside; when it does not say,
    both sides are read (a doubt keeps the flag). A record's relations to
    itself are not notices for another paper."""
    updated_by, update_to = _updates(item, "updated-by"), _updates(item, "update-to")
    reciprocal = {entry[1] for entry in updated_by} & {entry[1] for entry in update_to}
    said_updated = any(entry[3] == "retraction-watch" for entry in updated_by)
    said_notice = any(entry[3] == "retraction-watch" for entry in update_to)
    if reciprocal and said_notice and not said_updated:
        updated_by = [entry for entry in updated_by if entry[1] not in reciprocal]
    if reciprocal and said_updated and not said_notice:
        update_to = [entry for entry in update_to if entry[1] not in reciprocal]
    own_doi = _text(item.get("DOI") or item.get("doi")).strip().lower()
    return updated_by, [entry for entry in update_to if entry[1] != own_doi]


def _notices(item, updated_by):
    """What the item says was later published about it: Crossref's
    "updated-by", or CSL's "status" with our exports' note."""
    notices = [
        SourceNotice(kind, f"{relation}: doi: {doi}" + (f" ({date})" if date else ""), link_for(doi))
        for kind, doi, date, _source, relation in updated_by
    ]
    noted = notice_from_note(_text(item.get("note")))
    status = NOTICE_OF_LABEL.get(_text(item.get("status")).strip().casefold())
    if noted and (status is None or noted.kind == status):
        notices.append(noted)
    elif status:
        notices.append(SourceNotice(status))
    return notices


def _notice_for(item, year, update_to):
    """The papers this item is a notice for (Crossref's "update-to"), with
    the item as the notice's citation: "Retraction in: Lancet. 2010;375(9713):445. doi: …"."""
    doi = _text(item.get("DOI") or item.get("doi")).strip()
    source = "".join(
        [
            _text(
                item.get("short-container-title") or item.get("container-title-short") or item.get("container-title")
            ),
            f". {year}" if year else "",
            f";{_text(item.get('volume'))}" if item.get("volume") else "",
            f"({_text(item.get('issue'))})" if item.get("issue") else "",
            f":{_text(item.get('page'))}" if item.get("page") else "",
            f". doi: {doi}" if doi else "",
        ]
    ).strip(". ")
    url = link_for(doi.lower()) or _text(item.get("URL"))
    return [
        SourceNotice(kind, f"{relation}: {source}." if source else "", url, doi=paper)
        for kind, paper, _date, _source, relation in update_to
    ]
