"""BibTeX and BibLaTeX (Zotero, Mendeley, JabRef, Google Scholar), read by
bibtexparser 2.

The file is handed to bibtexparser a few hundred entries at a time, cut at
lines that start an entry, so memory stays flat for large files; @string
definitions carry over from one piece to the next.
"""

import re

import bibtexparser
from bibtexparser import middlewares
from bibtexparser.library import Library
from bibtexparser.model import DuplicateBlockKeyBlock
from pylatexenc.latex2text import LatexNodes2Text

from .base import BrokenRecord, ImportRefused, SourceRecord, person

ENTRIES_PER_PIECE = 500
ENTRY_START = re.compile(r"^\s*@\s*(\w+)\s*[{(]")
NOT_ENTRIES = {"string", "comment", "preamble"}
BOOK_TYPES = {"book", "mvbook", "inbook", "bookinbook", "collection", "incollection"}

_latex = LatexNodes2Text()


def tex(value):
    """LaTeX to text. Decoding is slow, so plain values only lose their braces."""
    value = str(value or "").replace("``", "“").replace("''", "”")
    if "\\" in value or "$" in value or "~" in value:
        return _latex.latex_to_text(value)
    return value.replace("{", "").replace("}", "")


def _parse_stack():
    return [
        *middlewares.default_parse_stack(),
        # Names are split before decoding: "{World Health Organization}" is one name.
        middlewares.SeparateCoAuthors(),
        middlewares.SplitNameParts(),
        middlewares.MonthIntMiddleware(True),
    ]


def records(source):
    strings, keys = [], {}
    number = 0
    piece, piece_start, piece_entries = [], 1, 0
    found_entries = False
    for line_number, line in source.lines():
        start = ENTRY_START.match(line)
        if start and start.group(1).lower() not in NOT_ENTRIES:
            if piece_entries >= ENTRIES_PER_PIECE:
                for item in _parse_piece(piece, piece_start, strings, keys, number):
                    number = item.number
                    yield item
                piece, piece_start, piece_entries = [], line_number, 0
            piece_entries += 1
            found_entries = True
        piece.append(line)
    if not found_entries:
        raise ImportRefused('This is not a BibTeX file: it has no entries such as "@article{key, …}".')
    yield from _parse_piece(piece, piece_start, strings, keys, number)


def _parse_piece(lines, first_line, strings, keys, number):
    library = bibtexparser.parse_string(
        "\n".join(lines), parse_stack=_parse_stack(), library=Library(blocks=list(strings))
    )
    strings[:] = library.strings
    blocks = sorted(
        [*library.entries, *(block for block in library.failed_blocks if not _is_string_block(block))],
        key=lambda block: block.start_line,
    )
    for block in blocks:
        number += 1
        line = first_line + (block.start_line or 0)
        if block in library.entries:
            key = block.key
            if key in keys:
                yield BrokenRecord(number, line, f"the citation key {key!r} is used twice (first on line {keys[key]}).")
                continue
            keys[key] = line
            yield SourceRecord(number=number, line=line, data=_fields(block), size=len(block.raw or ""))
        elif isinstance(block, DuplicateBlockKeyBlock):
            yield BrokenRecord(number, line, f"the citation key {block.key!r} is used twice.")
        else:
            yield BrokenRecord(number, line, _explain(block.error))


def _is_string_block(block):
    return (getattr(block, "raw", "") or "").lstrip().lower().startswith("@string")


def _explain(error):
    text = " ".join(str(error).split())
    # bibtexparser counts lines within the piece it was given; drop its
    # line numbers rather than show wrong ones (ours is in the report).
    text = re.sub(r"\s*\(line \d+\)", "", text)
    text = re.sub(r"\s*on line \d+", "", text)
    return f"it is not valid BibTeX: {text}"


def _names(value):
    if not isinstance(value, list):
        return []
    authors = []
    for name in value:
        if isinstance(name, str):
            authors.append(person(tex(name)))
            continue
        family = " ".join([*name.von, *name.last])
        given = " ".join([*name.first, *name.jr])
        authors.append(person(tex(family), tex(given)))
    return authors


def _fields(entry):
    fields = {field.key.lower(): field.value for field in entry.fields}

    def text(*names):
        for name in names:
            if fields.get(name):
                return tex(fields[name])
        return ""

    entry_type = entry.entry_type.lower()
    journal = text("journal", "journaltitle")
    if not journal and entry_type in {"inproceedings", "incollection", "inbook"}:
        journal = text("booktitle")
    return {
        "title": text("title"),
        "authors": _names(fields.get("author")) or _names(fields.get("editor")),
        "journal": journal,
        "year": text("year") or None,
        "date": text("date"),
        "month": fields.get("month"),
        "volume": text("volume"),
        "issue": text("number", "issue"),
        "pages": text("pages"),
        "doi": text("doi"),
        "pmid": text("pmid"),
        "url": text("url"),
        "abstract": text("abstract"),
        "keywords": text("keywords", "keyword"),
        "types": ["book"] if entry_type in BOOK_TYPES else [],
    }
