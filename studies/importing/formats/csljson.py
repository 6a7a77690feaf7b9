"""CSL-JSON (Zotero "CSL JSON", citation.js, pandoc, our own cite.json).

A JSON array of items. The standard json module reads one item at a time
from the text (raw_decode), so each item keeps its line number and a broken
item is named rather than the whole file failing with a byte offset.
"""

import json

from .base import BrokenRecord, ImportRefused, SourceRecord, split_name

WHITESPACE = " \t\r\n"
# CSL types that are our books and chapters; the rest carry a type only in "genre".
KINDS = {"book": "book", "chapter": "chapter"}


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
        },
    )
