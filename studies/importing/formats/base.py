"""What every import format shares: limits, reading bytes as text, the record
shape the parsers hand over, and turning a record into Study field values.

A format module (``ris``, ``bibtex``, ``csljson``, ``medline``) reads lines or
text and yields, in file order, one ``SourceRecord`` per reference — or a
``BrokenRecord`` saying which record and line is wrong and why, so a preview
can list every problem at once. A file that is not that format at all raises
``ImportRefused``. ``clean_record`` then checks one record against what the
Study model can hold.
"""

import codecs
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from catalog.models import Notice
from studies.identifiers import is_doi, is_pmid, normalise_doi, normalise_pmid
from studies.models import Study, StudyType

# Stated in the README. A reference manager's export of a few thousand
# papers is a few megabytes; PubMed exports at most 10,000 records at a
# time, about 30 MB with abstracts.
MAX_FILE_BYTES = 50 * 1024 * 1024
# One record's text. A very long abstract is ~20 kB; a megabyte is a file
# that was glued together wrongly, not a reference.
MAX_RECORD_CHARS = 1024 * 1024
# At most this many problems are kept in a report; the rest are counted.
MAX_REPORTED_PROBLEMS = 200

EARLIEST_YEAR = 1800
# Compiled once: a 100,000-record file calls each several times per record.
WORD = re.compile(r"[a-z]+")
NUMERIC_MONTH = re.compile(r"\s*[/-](\d{1,2})\b")
BLANK_LINE = re.compile(r"\n\s*\n")
KEYWORD_SEPARATOR = re.compile(r"[;,\n]")
PAGE_DASH = re.compile(r"\s*[-–—]+\s*")
# SourceFile.lines reads this much at a time.
LINES_BLOCK_BYTES = 1024 * 1024


class ImportRefused(Exception):
    """The file as a whole can't be imported; nothing was written.

    ``report`` carries what was learned before refusing (per-record outcomes,
    failures), when there is one."""

    def __init__(self, message, *, report=None):
        super().__init__(message)
        self.message = message
        self.report = report


@dataclass
class SourceRecord:
    """One reference as a format read it, before checking.

    ``data`` keys (all optional): title, authors [{"family", "given"}], journal
    (a chapter's: the book title), publisher, year, month, date (free text
    such as "2021 Mar 15" to take year/month from), volume, issue, pages,
    doi, pmid, url, abstract (may hold JATS/HTML markup), keywords [str],
    types [publication-type strings in the source's words; "book" and
    "chapter" for the formats' own book and chapter types], notices
    [SourceNotice: what was later published about this paper], notice_for
    [SourceNotice naming a doi or pmid: the record *is* such a notice, for
    the papers it names].
    """

    number: int  # 1-based position in the file
    line: int  # line the record starts on
    data: dict
    size: int = 0  # characters of source text


@dataclass
class BrokenRecord:
    number: int
    line: int
    message: str
    title: str = ""  # when the record had one (a record that can't become a study)


class RecordError(ValueError):
    """A record's values can't become a Study (message says which and why)."""


# -- reading text ---------------------------------------------------------------------------------


@dataclass
class SourceFile:
    """A seekable binary file and what is known about it."""

    file: io.BufferedIOBase
    name: str
    size: int
    encoding: str = "utf-8"
    bytes_read: int = 0
    close_after: bool = False

    @classmethod
    def open(cls, source):
        """``source``: a path, or a binary file object that can seek."""
        if isinstance(source, (str, os.PathLike)):
            try:
                file = open(source, "rb")  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise ImportRefused(f"Can't read {source}: {exc.strerror}.") from exc
            name, close_after = os.path.basename(source), True
        else:
            file, name, close_after = source, os.path.basename(getattr(source, "name", "") or "upload"), False
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(0)
        source_file = cls(file=file, name=name, size=size, close_after=close_after)
        if size > MAX_FILE_BYTES:
            source_file.close()
            raise ImportRefused(
                f"The file is {size / 1024 / 1024:.1f} MB; the limit is {MAX_FILE_BYTES // 1024 // 1024} MB. "
                "Split it into smaller files."
            )
        return source_file

    def close(self):
        if self.close_after:
            self.file.close()

    def head(self, length=64 * 1024):
        """The first ``length`` bytes, for recognising the format and encoding."""
        self.file.seek(0)
        data = self.file.read(length)
        self.file.seek(0)
        return data

    def detect_encoding(self):
        head = self.head(4)
        if head.startswith(codecs.BOM_UTF8):
            self.encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self.encoding = "utf-16"
        return self.encoding

    def head_text(self):
        encoding = self.detect_encoding()
        head = self.head()
        if encoding == "utf-16":
            return head.decode("utf-16", errors="replace")
        return head.decode("utf-8", errors="replace").lstrip("\ufeff")

    def lines(self, *, latin1_fallback=False):
        """(line number, text without the line break), decoding strictly.

        UTF-8 (with or without a byte-order mark) and UTF-16 with a BOM are
        read; a line that is not UTF-8 is read as Latin-1 when
        ``latin1_fallback`` (older PubMed exports), otherwise refused."""
        self.file.seek(0)
        self.bytes_read = 0
        if self.encoding == "utf-16":
            # UTF-16 can't be split on b"\n"; let the codec find the lines.
            text = io.TextIOWrapper(self.file, encoding="utf-16", newline=None)
            try:
                for number, line in enumerate(text, 1):
                    self.bytes_read += 2 * len(line)
                    yield number, line.rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise ImportRefused("The file says it is UTF-16 but isn't. Save it as UTF-8 and try again.") from exc
            finally:
                text.detach()
            return
        # A megabyte at a time, decoded at once: per line, decoding and the
        # generator's bookkeeping cost more than parsing the line. A block
        # that isn't all UTF-8 is decoded line by line, for the exact line
        # and the Latin-1 fallback. Lines end at b"\n" only, as in a binary
        # file's lines (str.splitlines would also split at \x0b, \u2028…).
        number, rest = 0, b""
        while chunk := self.file.read(LINES_BLOCK_BYTES):
            if not self.bytes_read and chunk.startswith(codecs.BOM_UTF8):
                self.bytes_read, chunk = len(codecs.BOM_UTF8), chunk[len(codecs.BOM_UTF8) :]
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if not cut:
                rest = data  # a line longer than the block so far
                continue
            block, rest = data[:cut], data[cut:]
            self.bytes_read += len(block)
            yield from self._block_lines(block, number, latin1_fallback)
            number += block.count(b"\n")
        if rest:
            self.bytes_read += len(rest)
            yield from self._block_lines(rest + b"\n", number, latin1_fallback)

    @staticmethod
    def _block_lines(block, before, latin1_fallback):
        """(line number, text) of ``block``'s lines, each ending in b"\n"; the
        first is line ``before + 1``."""
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            for number, line in enumerate(text.split("\n")[:-1], before + 1):
                yield number, line.rstrip("\r")
            return
        for number, raw in enumerate(block.split(b"\n")[:-1], before + 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                if not latin1_fallback:
                    raise ImportRefused(
                        f"Line {number} is not UTF-8 text (byte 0x{raw[exc.start]:02x}). "
                        "Export or save the file as UTF-8 and try again."
                    ) from exc
                line = raw.decode("latin-1")
            yield number, line.rstrip("\r")

    def read_text(self):
        """The whole file as text (for formats that can't be read line by line)."""
        self.file.seek(0)
        data = self.file.read()
        self.bytes_read = len(data)
        encoding = self.detect_encoding()
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ImportRefused(
                f"Line {line} is not UTF-8 text (byte 0x{data[exc.start]:02x}). "
                "Export or save the file as UTF-8 and try again."
            ) from exc

    @property
    def fraction_read(self):
        return min(1.0, self.bytes_read / self.size) if self.size else 1.0


# -- values ---------------------------------------------------------------------------------------

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ],
        1,
    )
    for name in names
}  # fmt: skip

YEAR = re.compile(r"\b(1[89]\d\d|2\d\d\d)\b")
_validate_url = URLValidator(schemes=["http", "https"])

# Publication types as sources write them (PubMed PT, CSL "type", RIS TY,
# BibTeX entry type), lower case, mapped to ours. The most specific wins: a
# record that is both "Review" and "Meta-Analysis" is a meta-analysis.
TYPE_PRIORITY = [
    ("meta-analysis", StudyType.META_ANALYSIS),
    ("systematic review", StudyType.SYSTEMATIC_REVIEW),
    ("randomized controlled trial", StudyType.RCT),
    ("randomised controlled trial", StudyType.RCT),
    ("controlled clinical trial", StudyType.RCT),
    ("clinical trial, phase iii", StudyType.RCT),
    ("case reports", StudyType.CASE_REPORT),
    ("case report", StudyType.CASE_REPORT),
    ("observational study", StudyType.COHORT),
    ("cohort study", StudyType.COHORT),
    ("cohort studies", StudyType.COHORT),
    ("case-control studies", StudyType.CASE_CONTROL),
    ("case-control study", StudyType.CASE_CONTROL),
    ("cross-sectional studies", StudyType.CROSS_SECTIONAL),
    ("cross-sectional study", StudyType.CROSS_SECTIONAL),
    ("animal study", StudyType.ANIMAL),
    ("review", StudyType.REVIEW),
    ("comment", StudyType.COMMENTARY),
    ("editorial", StudyType.COMMENTARY),
    ("letter", StudyType.COMMENTARY),
    ("chapter", StudyType.CHAPTER),
    ("book chapter", StudyType.CHAPTER),
    ("book", StudyType.BOOK),
    ("in vitro techniques", StudyType.IN_VITRO),
    ("in vitro study", StudyType.IN_VITRO),
]
# Our study types as the sources name them, for exports that carry a type
# as text (CSL "genre"): each reads back as the same type.
TYPE_NAMES = {
    StudyType.RCT: "Randomized Controlled Trial",
    StudyType.META_ANALYSIS: "Meta-Analysis",
    StudyType.SYSTEMATIC_REVIEW: "Systematic Review",
    StudyType.REVIEW: "Review",
    StudyType.COHORT: "Cohort Study",
    StudyType.CASE_CONTROL: "Case-Control Study",
    StudyType.CROSS_SECTIONAL: "Cross-Sectional Study",
    StudyType.CASE_REPORT: "Case Reports",
    StudyType.ANIMAL: "Animal Study",
    StudyType.IN_VITRO: "In Vitro Study",
    StudyType.COMMENTARY: "Comment",
}
TYPE_RANK = {name: rank for rank, (name, _) in enumerate(TYPE_PRIORITY)}
TYPE_OF = dict(TYPE_PRIORITY)


# -- notices: retractions, corrections, expressions of concern ---------------------------------------

# Which notice says most: an import never trades a notice for a milder one.
NOTICE_SEVERITY = {Notice.NONE: 0, Notice.CORRECTED: 1, Notice.CONCERN: 2, Notice.RETRACTED: 3}
# How a notice's citation starts, as PubMed words it ("Retraction in: J Nutr. …").
NOTICE_RELATION = {
    Notice.RETRACTED: "Retraction in",
    Notice.CORRECTED: "Erratum in",
    Notice.CONCERN: "Expression of concern in",
}
# Publishers' title prefix on a retracted paper (Elsevier "RETRACTED:",
# Springer Nature "RETRACTED ARTICLE:").
RETRACTED_TITLE = re.compile(r"^\s*retracted(?: article)?\s*:", re.IGNORECASE)
# A note as our own exports write one (studies.cite.notice_note): "Retracted.
# Retraction in: …" (BibTeX, CSL) or "Retracted: …" (RIS).
NOTICE_NOTE = re.compile(
    r"^\s*(" + "|".join(re.escape(label) for value, label in Notice.choices if value) + r")\s*(?:$|[.:]\s*(.*))",
    re.IGNORECASE | re.DOTALL,
)
NOTICE_OF_LABEL = {label.casefold(): value for value, label in Notice.choices if value}
DOI_IN_TEXT = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+", re.IGNORECASE)
PMID_IN_TEXT = re.compile(r"\bPMID:?\s*(\d{1,10})\b")
URL_IN_TEXT = re.compile(r"https?://\S+$")


@dataclass(frozen=True)
class SourceNotice:
    """A retraction, correction (erratum) or expression of concern as a
    source states it: ``kind`` a Notice value, the notice's ``citation`` and
    ``url``. On a notice record, ``doi``/``pmid`` name the paper it is about."""

    kind: str
    citation: str = ""
    url: str = ""
    doi: str = ""
    pmid: str = ""


def identifiers_in(text):
    """(doi, pmid) cited in a reference's text ("… doi: 10.1038/x. PMID: 123.")."""
    text = str(text or "")
    doi_match = DOI_IN_TEXT.search(text)
    pmid_match = PMID_IN_TEXT.search(text)
    doi = normalise_doi(doi_match.group().rstrip(".,;")) if doi_match else ""
    return (doi if is_doi(doi) else ""), (pmid_match.group(1) if pmid_match else "")


def link_for(doi="", pmid=""):
    """Where a cited notice is: its DOI's address, else its PubMed page."""
    if doi:
        return f"https://doi.org/{doi}"
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else ""


def notice_citing(kind, reference, relation=None):
    """A notice of ``kind`` whose citation is ``reference`` as the source
    gives it; its link from the DOI or PMID the reference names."""
    reference = one_line(reference).rstrip()
    citation = f"{relation or NOTICE_RELATION[kind]}: {reference}" if reference else ""
    return SourceNotice(kind, citation=citation, url=link_for(*identifiers_in(reference)))


def notice_from_note(text):
    """A SourceNotice from a note our exports wrote ("Retracted. Retraction
    in: …"), else None: another tool's note is not read for one."""
    match = NOTICE_NOTE.match(str(text or ""))
    if not match:
        return None
    details = one_line(match.group(2))
    url_match = URL_IN_TEXT.search(details)
    url = url_match.group() if url_match else ""
    citation = details[: url_match.start()].strip() if url_match else details
    return SourceNotice(NOTICE_OF_LABEL[match.group(1).casefold()], citation=citation, url=url)


def strongest_notice(notices):
    """(kind, citation, url) of the most severe of ``notices``: the citations
    of that kind joined, the link of the last (sources list notices oldest
    first); ("", "", "") when there is none."""
    notices = [notice for notice in notices if notice.kind in NOTICE_SEVERITY and notice.kind]
    if not notices:
        return Notice.NONE.value, "", ""
    kind = max((notice.kind for notice in notices), key=NOTICE_SEVERITY.__getitem__)
    chosen = [notice for notice in notices if notice.kind == kind]
    citations = list(dict.fromkeys(notice.citation for notice in chosen if notice.citation))
    url = next((notice.url for notice in reversed(chosen) if notice.url), "")
    return str(kind), "; ".join(citations), url


def study_type_from(types):
    """Our study type from the source's publication types, or None when the
    source doesn't say one we know."""
    known = [name for name in (str(t).strip().lower() for t in types or ()) if name in TYPE_OF]
    if not known:
        return None
    return TYPE_OF[min(known, key=TYPE_RANK.__getitem__)]


def title_key(title):
    """A title reduced to what identifies it: letters and digits, lower case,
    accents and punctuation dropped ("Vitamin K2: a Review." == "vitamin k2 a review")."""
    decomposed = unicodedata.normalize("NFKD", title or "")
    return NOT_ALPHANUMERIC.sub("", decomposed.casefold())


# What str.isalnum() rejects: \W is every character but letters, digits and "_".
NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


def year_and_month(text):
    """(year, month) from free text such as '2021 Mar 15', '2021/03/15', '2021-03', 'Spring 2020'."""
    text = str(text or "").strip()
    year_match = YEAR.search(text)
    if not year_match:
        return None, None
    year = int(year_match.group())
    rest = (text[: year_match.start()] + " " + text[year_match.end() :]).lower()
    for word in WORD.findall(rest):
        if word in MONTHS:
            return year, MONTHS[word]
    numeric = NUMERIC_MONTH.match(text, year_match.end())
    if numeric and 1 <= int(numeric.group(1)) <= 12:
        return year, int(numeric.group(1))
    return year, None


def month_number(value):
    if value in (None, ""):
        return None
    text = str(value).strip().lower().rstrip(".")
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return MONTHS.get(text) or MONTHS.get(text[:3])


def one_line(value):
    """Collapse runs of whitespace (sources wrap long titles)."""
    return " ".join(str(value or "").split())


# -- markup in text ---------------------------------------------------------------------------------

MARKUP = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")
# Tags that end a paragraph (JATS as Crossref and publishers deliver it, HTML).
BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "sec", "title", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table",
    "tr", "abstract", "list", "list-item", "caption", "label",
}  # fmt: skip
SUBSCRIPT = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
SUPERSCRIPT = str.maketrans("0123456789+-=()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾")


class _Text(HTMLParser):
    """Markup → text: paragraphs (blank line between), no tags, entities decoded."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs, self.current, self.script = [], [], None
        self.skip = 0

    def _name(self, tag):
        return tag.rsplit(":", 1)[-1].lower()

    def handle_starttag(self, tag, attrs):
        name = self._name(tag)
        if name in ("script", "style"):
            self.skip += 1
        elif name in BLOCK_TAGS:
            self.end_paragraph()
        elif name in ("sub", "sup"):
            self.script = (name, len(self.current))

    def handle_endtag(self, tag):
        name = self._name(tag)
        if name in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif name in BLOCK_TAGS:
            self.end_paragraph()
        elif name in ("sub", "sup") and self.script:
            start = self.script[1]
            inner = "".join(self.current[start:])
            if inner.strip() and all(char in "0123456789+-=()" for char in inner.strip()):
                table = SUBSCRIPT if name == "sub" else SUPERSCRIPT
                self.current[start:] = [inner.strip().translate(table)]
            self.script = None

    def handle_startendtag(self, tag, attrs):
        if self._name(tag) in BLOCK_TAGS:
            self.end_paragraph()

    def handle_data(self, data):
        if not self.skip:
            self.current.append(data)

    def end_paragraph(self):
        text = " ".join("".join(self.current).split())
        if text:
            self.paragraphs.append(text)
        self.current = []

    def text(self):
        self.close()
        self.end_paragraph()
        return self.paragraphs


def has_markup(text):
    return ("<" in text or "&" in text) and MARKUP.search(text) is not None


def plain_paragraphs(text):
    """Paragraphs of ``text`` without markup; source line breaks are kept as
    paragraph breaks only where the text had blank lines."""
    text = str(text or "")
    if has_markup(text):
        parser = _Text()
        # A blank line in the source ends a paragraph too.
        parser.feed(BLANK_LINE.sub("<p>", text))
        paragraphs = parser.text()
    else:
        paragraphs = [" ".join(part.split()) for part in BLANK_LINE.split(text)]
    return [paragraph for paragraph in paragraphs if paragraph]


def plain_abstract(text):
    """An abstract as text: markup (JATS ``<jats:p>``, ``<ext-link>``, HTML
    ``<b>``…) dropped, entities decoded, paragraphs kept with a blank line
    between them. A leading "Abstract" heading goes."""
    paragraphs = plain_paragraphs(text)
    if paragraphs and paragraphs[0].rstrip(":.").casefold() in ("abstract", "summary"):
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs)


def plain_line(text):
    """A title or name as one line of text, inline markup (CSL's <i>, <sub>…) dropped."""
    text = str(text or "")
    if has_markup(text):
        text = " ".join(plain_paragraphs(text))
    return one_line(text)


def split_keywords(values):
    """Keywords from a list and/or delimited strings ("bone; calcium, K2")."""
    if isinstance(values, str):
        values = [values]
    keywords = []
    for value in values or ():
        for part in KEYWORD_SEPARATOR.split(str(value)):
            part = one_line(part).strip(" .")
            if part:
                keywords.append(part)
    return keywords


def person(family, given=""):
    return {"family": one_line(family), "given": one_line(given)}


def split_name(text):
    """'Müller, Hans' or 'Hans Müller' → {"family": "Müller", "given": "Hans"}."""
    text = one_line(text)
    if "," in text:
        family, _, given = text.partition(",")
        return person(family, given)
    parts = text.rsplit(" ", 1)
    return person(parts[-1], parts[0] if len(parts) == 2 else "")


# -- checking one record --------------------------------------------------------------------------

# What an import sets on a Study, in the order a report lists changes.
IMPORTED_FIELDS = [
    "title", "paper_title", "authors", "journal", "publisher", "year", "month", "volume", "issue", "pages",
    "doi", "pmid", "url", "abstract", "study_type", "notice", "notice_citation", "notice_url",
]  # fmt: skip
EMPTY = {"authors": [], "year": None, "month": None}

_max_length = {name: Study._meta.get_field(name).max_length for name in IMPORTED_FIELDS}
TAG_MAX_LENGTH = 100


@dataclass
class CleanRecord:
    number: int
    line: int
    fields: dict
    keywords: list = field(default_factory=list)
    title_key: str = ""
    # The record is a notice (a retraction…) for these papers: [SourceNotice].
    notice_for: list = field(default_factory=list)
    # Set by the importer's reading (studies.importing.reading.checked).
    tags: list = field(default_factory=list)
    digest: str = ""


def _check_length(fields, name, label):
    limit = _max_length[name]
    if limit and len(fields[name]) > limit:
        raise RecordError(f"{label} is {len(fields[name])} characters long; at most {limit} fit.")


def _has_nul(value):
    """Whether any text in ``value`` (text, or lists and dicts of them) holds a NUL."""
    stack = [value]
    while stack:
        value = stack.pop()
        if type(value) is str:
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
    return False


def clean_record(record):
    """A SourceRecord's data as Study field values; RecordError says what's wrong."""
    if record.size > MAX_RECORD_CHARS:
        raise RecordError(
            f"the record is {record.size / 1024:.0f} kB long; a record may be at most {MAX_RECORD_CHARS // 1024} kB."
        )
    data = record.data
    for name, value in data.items():
        # No database text column takes a NUL; say so here, while the
        # record and its line are known (a 500 at the write otherwise).
        if ("\x00" in value) if type(value) is str else _has_nul(value):
            raise RecordError(f"its {name} contains a NUL character (\\0); remove it from the file.")
    title = plain_line(data.get("title")).rstrip()
    if not title:
        raise RecordError("it has no title.")
    year, month = data.get("year"), data.get("month")
    if data.get("date") and year in (None, ""):
        year, month_from_date = year_and_month(data["date"])
        month = month or month_from_date
    elif data.get("date") and not month:
        month = year_and_month(data["date"])[1]
    if year not in (None, ""):
        match = YEAR.search(str(year))
        if not match or not (EARLIEST_YEAR <= int(match.group()) <= timezone.now().year + 1):
            raise RecordError(f"the year {str(year)!r} is not a year between {EARLIEST_YEAR} and next year.")
        year = int(match.group())
    else:
        year = None
    month = month_number(month) if year else None

    # The same canonical forms as the admin form's (studies.identifiers).
    doi = normalise_doi(data.get("doi"))
    if doi and not (doi.startswith("10.") and "/" in doi):
        raise RecordError(f"the DOI {data.get('doi')!r} is not a DOI (a DOI starts with 10. and has a /).")
    pmid = normalise_pmid(one_line(data.get("pmid")))
    if pmid and not is_pmid(pmid):
        raise RecordError(f"the PMID {pmid!r} is not a PubMed ID (digits only).")
    url = one_line(data.get("url"))
    if url.startswith("//"):
        url = "https:" + url  # protocol-relative, as ScienceDirect exports it
    if url:
        try:
            _validate_url(url)
        except ValidationError:
            raise RecordError(f"the URL {url!r} is not a web address.") from None

    fields = {
        # The headline starts as the paper's title; editors may shorten it.
        "title": title if len(title) <= _max_length["title"] else title[: _max_length["title"] - 1].rstrip() + "…",
        "paper_title": title,
        "authors": [
            author
            for author in (person(named.get("family"), named.get("given")) for named in data.get("authors") or ())
            if author["family"] or author["given"]
        ],
        "journal": plain_line(data.get("journal")),
        "publisher": plain_line(data.get("publisher")),
        "year": year,
        "month": month,
        "volume": one_line(data.get("volume")),
        "issue": one_line(data.get("issue")),
        "pages": PAGE_DASH.sub("-", one_line(data.get("pages"))),
        "doi": doi,
        "pmid": pmid,
        "url": url,
        "abstract": plain_abstract(data.get("abstract")),
        "study_type": study_type_from(data.get("types")) or StudyType.OTHER,
    }
    notices = list(data.get("notices") or ())
    if RETRACTED_TITLE.match(title):
        notices.append(SourceNotice(Notice.RETRACTED))
    fields["notice"], fields["notice_citation"], fields["notice_url"] = strongest_notice(notices)
    if fields["notice_url"]:
        try:
            _validate_url(fields["notice_url"])
        except ValidationError:
            fields["notice_url"] = ""  # the notice still counts; its link was garbled
        if len(fields["notice_url"]) > _max_length["notice_url"]:
            fields["notice_url"] = ""
    for name, label in [
        ("paper_title", "The title"), ("journal", "The journal"), ("publisher", "The publisher"),
        ("volume", "The volume"), ("issue", "The issue"), ("pages", "The pages"), ("doi", "The DOI"),
        ("url", "The URL"),
    ]:  # fmt: skip
        _check_length(fields, name, label)

    keywords, seen = [], set()
    for keyword in split_keywords(data.get("keywords")):
        if len(keyword) > TAG_MAX_LENGTH:
            raise RecordError(
                f"the keyword {keyword[:40]!r}… is {len(keyword)} characters; a tag may be at most {TAG_MAX_LENGTH}."
            )
        if keyword.casefold() not in seen:
            seen.add(keyword.casefold())
            keywords.append(keyword)
    notice_for = [
        SourceNotice(notice.kind, notice.citation, notice.url, doi=normalise_doi(notice.doi), pmid=notice.pmid)
        for notice in data.get("notice_for") or ()
        if notice.kind in NOTICE_SEVERITY and notice.kind and (notice.doi or notice.pmid)
    ]
    return CleanRecord(
        number=record.number,
        line=record.line,
        fields=fields,
        keywords=keywords,
        title_key=title_key(title),
        notice_for=notice_for,
    )
