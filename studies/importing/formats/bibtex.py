"""BibTeX and BibLaTeX (Zotero, Mendeley, JabRef, Google Scholar,
MathSciNet, hand-kept files), read by bibtexparser 2.

The file is handed to bibtexparser a few hundred entries at a time, cut at
lines that start an entry, so memory stays flat for large files; @string
definitions carry over from one piece to the next. Field names are read in
any case (``AUTHOR =``, ``Author =``), ``@string`` macros joined with ``#``
are resolved, and ``crossref`` children inherit their parent's fields
(BibTeX files list parents after children: a child waits for its parent,
and only the entries some ``crossref`` names are kept for it).

Values are LaTeX; ``tex`` turns them into text (accents, ``\\mbox``,
``\\TeX``, math such as ``K$_2$`` → K₂). Addresses and identifiers (url,
doi, eprint, pmid) are verbatim, as BibLaTeX reads them.
"""

import re
from dataclasses import dataclass

import bibtexparser
from bibtexparser import middlewares
from bibtexparser.library import Library
from bibtexparser.middlewares.middleware import BlockMiddleware
from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, Field, String
from pylatexenc.latex2text import LatexNodes2Text

from .base import SUBSCRIPT, SUPERSCRIPT, BrokenRecord, ImportRefused, SourceRecord, notice_from_note, person

ENTRIES_PER_PIECE = 500
ENTRY_START = re.compile(r"^\s*@\s*(\w+)\s*[{(]")
NOT_ENTRIES = {"string", "comment", "preamble"}
BOOK_TYPES = {"book", "mvbook", "collection", "mvcollection", "booklet"}
CHAPTER_TYPES = {"inbook", "incollection", "bookinbook", "suppbook", "suppcollection"}
# Entries whose booktitle is their container.
IN_TYPES = CHAPTER_TYPES | {"inproceedings", "conference", "inreference"}
VERBATIM = {"url", "doi", "eprint", "pmid", "file", "urldate", "crossref", "ids"}
# Fields a crossref child never takes from its parent (BibLaTeX's defaults).
NOT_INHERITED = {"title", "subtitle", "titleaddon", "shorttitle", "sorttitle", "indextitle", "ids", "crossref", "label"}
CROSSREF = re.compile(r"""\bcrossref\s*=\s*[{"]?\s*([^\s{}",]+)""", re.IGNORECASE)

_latex = LatexNodes2Text(math_mode="text")

# LaTeX that pylatexenc drops or can't read, made plain first.
MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$", re.DOTALL)
SCRIPT = re.compile(r"([_^])(?:\{\s*([0-9+\-=()]+)\s*\}|([0-9]))")
OTHER_SCRIPT = re.compile(r"[_^](?:\{([^{}]*)\}|(\w))")
TEXT_SCRIPT = re.compile(r"\\text(super|sub)script\s*\{([^{}]*)\}")
MONTH_MACROS = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
BARE_MACRO = re.compile(r"^[A-Za-z][\w:.+/-]*$")
LOGOS = re.compile(r"\\(LaTeXe|LaTeX|BibTeX|TeX)(?![A-Za-z])(?:\s*\{\})?")
BOXES = re.compile(r"\\(?:mbox|hbox|makebox|text|textnormal|textup)\s*(?=\{)")
LINKS = re.compile(r"\\href\s*\{[^{}]*\}\s*\{([^{}]*)\}|\\url\s*\{([^{}]*)\}")
UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
ESCAPED = re.compile(r"\\([_%&#$~{}])")


def _scripts(match):
    """Math made readable: K$_2$ → K₂, $mc^2$ → mc²; other scripts lose their marks."""

    def one(script):
        digits = script.group(2) or script.group(3)
        return digits.translate(SUBSCRIPT if script.group(1) == "_" else SUPERSCRIPT)

    inner = match.group(1).replace("\\sp", "^").replace("\\sb", "_")
    inner = OTHER_SCRIPT.sub(lambda other: other.group(1) or other.group(2) or "", SCRIPT.sub(one, inner))
    return "$" + inner + "$"


def _text_script(match):
    text = match.group(2)
    if text.strip() and all(char in "0123456789+-=()" for char in text.strip()):
        return text.strip().translate(SUPERSCRIPT if match.group(1) == "super" else SUBSCRIPT)
    return text


def tex(value):
    """LaTeX to text. Decoding is slow, so plain values only lose their braces
    (and "--" is a dash, as LaTeX sets it)."""
    value = str(value or "").replace("``", "“").replace("''", "”").replace("---", "—").replace("--", "–")
    if "\\" not in value and "$" not in value and "~" not in value:
        return value.replace("{", "").replace("}", "")
    # A bare % is a comment to LaTeX and would cut the value; in a field it means per cent.
    value = UNESCAPED_PERCENT.sub(r"\\%", value)
    value = LINKS.sub(lambda match: match.group(1) if match.group(1) is not None else match.group(2), value)
    value = LOGOS.sub(lambda match: {"LaTeXe": "LaTeX2e"}.get(match.group(1), match.group(1)), value)
    value = BOXES.sub("", value)
    value = TEXT_SCRIPT.sub(_text_script, value)
    if "$" in value:
        value = MATH.sub(_scripts, value)
    try:
        return _latex.latex_to_text(value)
    except Exception:  # pylatexenc fails on some malformed macros; keep the words
        return re.sub(r"\\[A-Za-z]+\*?|[{}$]", "", value)


def verbatim(value):
    """A URL or identifier: braces and escapes go, ``~`` and ``%`` stay."""
    return ESCAPED.sub(r"\1", str(value or "")).replace("{", "").replace("}", "").strip()


class ConcatenateStrings(BlockMiddleware):
    """``"Foo" # foo # {bar}``: the parts joined, @string macros resolved
    (case-insensitively, as BibTeX does). bibtexparser resolves a value that
    is one macro only."""

    def __init__(self):
        super().__init__(allow_inplace_modification=True)

    def transform_entry(self, entry, library):
        strings = _strings(library)
        for field in entry.fields:
            if not isinstance(field.value, str):
                continue
            value = field.value.strip()
            if "#" in value:
                joined = _concatenate(value, strings)
                if joined is not None:
                    field.value = "{" + joined + "}"
            elif BARE_MACRO.match(value) and value.lower() not in strings and value.lower() not in MONTH_MACROS:
                # An undefined macro: BibTeX warns and reads it as empty.
                field.value = "{}"
        return entry

    def transform_string(self, string, library):
        if isinstance(string.value, str) and "#" in string.value:
            joined = _concatenate(string.value, _strings(library))
            if joined is not None:
                string.value = "{" + joined + "}"
        return string


def _strings(library):
    return {key.lower(): block.value for key, block in library.strings_dict.items()}


def _unenclose(value):
    value = str(value).strip()
    if len(value) >= 2 and (value[0], value[-1]) in (("{", "}"), ('"', '"')):
        return value[1:-1]
    return value


def _concatenate(raw, strings):
    """The parts of a ``#`` expression joined, or None if it isn't one."""
    parts, depth, quoted, current = [], 0, False, []
    for char in raw:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        if char == "#" and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    if len(parts) < 2 or not all(parts):
        return None
    text = []
    for part in parts:
        if part[0] in '{"' or part.isdigit():
            text.append(_unenclose(part))
        elif part.lower() in strings:
            text.append(_unenclose(strings[part.lower()]))
        elif part.lower() in MONTH_MACROS:
            text.append(part)  # BibTeX styles define jan … dec
        # Any other undefined macro is empty, as BibTeX reads it (with a warning).
    return "".join(text)


def _parse_stack():
    return [
        ConcatenateStrings(),
        *middlewares.default_parse_stack(),
        middlewares.NormalizeFieldKeys(),
        # Names are separated before decoding: "{World Health Organization}" is one name.
        middlewares.SeparateCoAuthors(),
    ]


@dataclass
class _Entry:
    number: int
    line: int
    entry_type: str
    key: str
    fields: dict
    size: int


def _crossref_targets(source):
    """The keys some entry's crossref names (lower case): only those entries are kept for their children."""
    targets = set()
    for _, line in source.lines():
        if "rossref" in line or "ROSSREF" in line:
            targets.update(match.lower() for match in CROSSREF.findall(line))
    return targets


def records(source):
    crossrefs = Crossrefs(_crossref_targets(source))
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
                    yield from crossrefs.feed(item)
                piece, piece_start, piece_entries = [], line_number, 0
            piece_entries += 1
            found_entries = True
        piece.append(line)
    if not found_entries:
        raise ImportRefused('This is not a BibTeX file: it has no entries such as "@article{key, …}".')
    for item in _parse_piece(piece, piece_start, strings, keys, number):
        yield from crossrefs.feed(item)
    yield from crossrefs.finish()


class Crossrefs:
    """Entries in, records out; a child whose parent is still to come waits for it."""

    def __init__(self, targets):
        self.targets = targets
        self.parents = {}  # key → fields, for keys some crossref names
        self.waiting = {}  # parent key → [child entries]

    def feed(self, item):
        if isinstance(item, BrokenRecord):
            yield item
            return
        key = item.key.lower()
        if key in self.targets:
            self.parents[key] = item.fields
        parent = str(item.fields.get("crossref") or "").strip().lower()
        if parent and parent != key and parent in self.targets and parent not in self.parents:
            self.waiting.setdefault(parent, []).append(item)
        else:
            yield self._record(item)
        for child in self.waiting.pop(key, []):
            yield self._record(child)

    def finish(self):
        for children in self.waiting.values():
            for child in children:
                yield self._record(child)
        self.waiting = {}

    def _record(self, item):
        parent = self.parents.get(str(item.fields.get("crossref") or "").strip().lower())
        fields = _inherit(item, parent) if parent is not None and parent is not item.fields else item.fields
        return SourceRecord(number=item.number, line=item.line, data=_fields(item.entry_type, fields), size=item.size)


def _inherit(item, parent):
    fields = dict(item.fields)
    if item.entry_type in IN_TYPES and "booktitle" not in fields and parent.get("title"):
        fields["booktitle"] = parent["title"]
        if parent.get("subtitle") and "booksubtitle" not in fields:
            fields["booksubtitle"] = parent["subtitle"]
    for name, value in parent.items():
        if name not in NOT_INHERITED and name not in fields:
            fields[name] = value
    return fields


def _parse_piece(lines, first_line, strings, keys, number):
    library = bibtexparser.parse_string(
        "\n".join(lines), parse_stack=_parse_stack(), library=Library(blocks=list(strings))
    )
    strings[:] = [block for block in library.strings if isinstance(block, String)]
    blocks = sorted(
        [*library.entries, *(block for block in library.failed_blocks if not _is_string_block(block))],
        key=lambda block: block.start_line,
    )
    for block in blocks:
        number += 1
        line = first_line + (block.start_line or 0)
        if isinstance(block, Entry):
            key = block.key
            if key in keys:
                yield BrokenRecord(number, line, f"the citation key {key!r} is used twice (first on line {keys[key]}).")
                continue
            keys[key] = line
            fields = {field.key: field.value for field in block.fields if isinstance(field, Field)}
            yield _Entry(number, line, block.entry_type.lower(), key, fields, len(block.raw or ""))
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
    if isinstance(value, str):
        value = [value] if value.strip() else []
    authors = []
    for name in value or []:
        try:
            parts = parse_single_name_into_parts(name, strict=False)
        except InvalidNameError:
            authors.append(person(tex(name)))
            continue
        family = " ".join([*parts.von, *parts.last])
        given = " ".join([*parts.first, *parts.jr])
        authors.append(person(tex(family), tex(given)))
    return authors


def _title(fields, name, subname):
    """A title and its (BibLaTeX) subtitle: "Title: Subtitle"."""
    title, subtitle = tex(fields.get(name, "")).strip(), tex(fields.get(subname, "")).strip()
    if title and subtitle:
        return f"{title}{'' if title[-1] in ':?!.' else ':'} {subtitle}"
    return title


def _fields(entry_type, fields):
    def text(*names):
        for name in names:
            if fields.get(name):
                return tex(fields[name])
        return ""

    journal = _title(fields, "journal", "journalsubtitle") or _title(fields, "journaltitle", "journalsubtitle")
    if entry_type in IN_TYPES:
        journal = _title(fields, "booktitle", "booksubtitle") or _title(fields, "maintitle", "mainsubtitle") or journal
    pmid = verbatim(fields.get("pmid", ""))
    if not pmid and str(fields.get("eprinttype", "")).strip("{} ").lower() == "pubmed":
        pmid = verbatim(fields.get("eprint", ""))
    kind = ["chapter"] if entry_type in CHAPTER_TYPES else (["book"] if entry_type in BOOK_TYPES else [])
    return {
        "title": _title(fields, "title", "subtitle"),
        "authors": _names(fields.get("author")) or _names(fields.get("editor")),
        "journal": journal,
        "publisher": text("publisher"),
        "year": text("year") or None,
        "date": text("date"),
        "month": tex(fields.get("month", "")),
        "volume": text("volume"),
        "issue": text("number", "issue"),
        "pages": text("pages"),
        "doi": verbatim(fields.get("doi", "")),
        "pmid": pmid,
        "url": verbatim(fields.get("url", "")),
        "abstract": text("abstract"),
        "keywords": text("keywords", "keyword"),
        "types": kind,
        # Our exports' note "Retracted. Retraction in: …" (studies.cite).
        "notices": [notice] if (notice := notice_from_note(text("note"))) else [],
    }
