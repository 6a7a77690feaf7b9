"""Import → export → read back by independent parsers, compared with what
the source file says (``samples/real/expected.json``).

Each real sample is imported with ``study_import``; every study it became is
exported as BibTeX, RIS and CSL-JSON (``studies.cite``) and each export is
read back by parsers that are not ours: bibtexparser 2 *and* pybtex for
BibTeX, rispy for RIS, the json module and citeproc-py (which also renders a
bibliography entry from the item) for CSL-JSON. A record is *faithful* when
every compared field read back from every export equals the source's.

``expected.json`` holds, per file and record, what the source says: drafted
with independent readers (pybtex, rispy, json, a plain MEDLINE split) and
checked by hand against the files (see samples/real/SOURCES.md). Records
without a title are stubs: they are not references, and are counted apart,
as are repeats (a record the importer takes for an earlier one of the same
file: same title and year, no DOI or PMID to tell them apart).

The same module measured the code before issue 12 (README: scores before
and after), hence ``_import`` works with and without ``skip_invalid``.
"""

import inspect
import json
import re
import unicodedata
from functools import cache
from pathlib import Path

import bibtexparser
import rispy
from bibtexparser.middlewares import SeparateCoAuthors
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from pybtex.database import Person
from pybtex.database import parse_string as pybtex_parse
from pylatexenc.latex2text import LatexNodes2Text

from studies import cite
from studies.importing import ImportRefused, study_import
from studies.models import Study

REAL = Path(__file__).parent / "samples" / "real"
FIELDS = [
    "title", "authors", "container", "year", "month", "volume", "issue", "first_page", "last_page", "doi", "pmid",
    "abstract",
]  # fmt: skip
EXPORTS = ["bibtex", "pybtex", "ris", "csljson", "citeproc"]
CRASHES = []
MONTHS = {name: number for number, name in enumerate(cite.BIBTEX_MONTHS, 1)}
_QUOTES = str.maketrans(
    {"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " ", "ˆ": "^", "˜": "~"}
)


@cache
def expected():
    return json.loads((REAL / "expected.json").read_text(encoding="utf-8"))


def text_key(value):
    """A value as compared: Unicode-normalised (K₂ == K2), quotes and dashes
    plain ("--" is a dash, as LaTeX and PubMed write one), whitespace
    collapsed, no trailing full stop."""
    value = unicodedata.normalize("NFKC", str(value or "")).translate(_QUOTES)
    value = re.sub(r"-{2,}", "-", value)
    return " ".join(value.split()).rstrip(".").strip()


def name_key(name):
    family, given = name
    return [text_key(family), " ".join(text_key(given).replace(".", " ").split())]


def normalised(record):
    out = {}
    for field in FIELDS:
        value = record.get(field)
        if field == "authors":
            out[field] = [name_key(name) for name in value or []]
        elif field in ("year", "month"):
            out[field] = int(value) if value not in (None, "") else None
        elif field == "abstract":
            out[field] = bool(value)
        elif field == "doi":
            out[field] = text_key(value).lower()
        else:
            out[field] = text_key(value)
    return out


def split_pages(text):
    first, _, last = re.sub(r"\s*(?:--|-|–|—)\s*", "-", " ".join(str(text or "").split())).partition("-")
    return first, last


def month_of(value):
    value = str(value or "").strip().lower()
    if value.isdigit():
        return int(value)
    return MONTHS.get(value[:3])


def year_month(text):
    match = re.match(r"\s*(\d{4})(?:[/-](\d{1,2}))?", str(text or ""))
    if not match:
        return None, None
    return int(match.group(1)), int(match.group(2)) if match.group(2) else None


# Reading the exports back -------------------------------------------------------------------------


def _latex(value):
    return LatexNodes2Text(math_mode="verbatim").latex_to_text(value) if value else ""


def _person(name):
    """[family, given] of a BibTeX name, split before LaTeX is decoded ({…} keeps a name whole)."""
    person = Person(name)
    return [
        _latex(" ".join(person.prelast_names + person.last_names)),
        _latex(" ".join(person.first_names + person.middle_names + person.lineage_names)),
    ]


def read_bibtex(text):
    library = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors()])
    assert not library.failed_blocks, library.failed_blocks
    (entry,) = library.entries
    fields = {name.lower(): field.value for name, field in entry.fields_dict.items()}
    authors = [_person(name) for name in fields.pop("author", None) or []]
    fields = {name: _latex(value) if isinstance(value, str) else value for name, value in fields.items()}
    first, last = split_pages(fields.get("pages"))
    return {
        "title": fields.get("title", ""),
        "authors": authors,
        "container": fields.get("journal") or fields.get("booktitle") or "",
        "year": fields.get("year"),
        "month": month_of(fields.get("month")),
        "volume": fields.get("volume", ""),
        "issue": fields.get("number", ""),
        "first_page": first,
        "last_page": last,
        "doi": fields.get("doi", ""),
        "pmid": fields.get("pmid", ""),
        "abstract": fields.get("abstract", ""),
    }


def read_pybtex(text):
    data = pybtex_parse(text, "bibtex")
    (entry,) = data.entries.values()
    fields = {name.lower(): value for name, value in entry.fields.items()}
    authors = [
        [
            _latex(" ".join(person.prelast_names + person.last_names)),
            _latex(" ".join(person.first_names + person.middle_names + person.lineage_names)),
        ]
        for person in entry.persons.get("author", [])
    ]
    first, last = split_pages(_latex(fields.get("pages", "")))
    return {
        "title": _latex(fields.get("title", "")),
        "authors": authors,
        "container": _latex(fields.get("journal") or fields.get("booktitle") or ""),
        "year": fields.get("year"),
        "month": month_of(fields.get("month")),
        "volume": _latex(fields.get("volume", "")),
        "issue": _latex(fields.get("number", "")),
        "first_page": first,
        "last_page": last,
        "doi": _latex(fields.get("doi", "")),
        "pmid": fields.get("pmid", ""),
        "abstract": fields.get("abstract", ""),
    }


def read_ris(text):
    (record,) = rispy.loads(text)
    authors = []
    for name in record.get("authors") or []:
        family, _, given = name.partition(",")
        authors.append([family.strip(), given.strip()])
    database = f"{record.get('name_of_database', '')} {record.get('database_provider', '')}".lower()
    accession = str(record.get("accession_number") or "")
    year, month = year_month(record.get("date"))
    return {
        "title": record.get("title", ""),
        "authors": authors,
        "container": record.get("journal_name") or record.get("secondary_title") or "",
        "year": record.get("year") or year,
        "month": month,
        "volume": record.get("volume", ""),
        "issue": record.get("number", ""),
        "first_page": record.get("start_page", ""),
        "last_page": record.get("end_page", ""),
        "doi": record.get("doi", ""),
        "pmid": accession if accession.isdigit() and ("pubmed" in database or "nlm" in database) else "",
        "abstract": record.get("abstract", ""),
    }


def read_csljson(text):
    (item,) = json.loads(text)
    parts = (item.get("issued") or {}).get("date-parts") or [[]]
    first, last = split_pages(item.get("page"))
    return {
        "title": item.get("title", ""),
        "authors": [
            [author.get("literal") or author.get("family", ""), author.get("given", "")]
            for author in item.get("author", [])
        ],
        "container": item.get("container-title", ""),
        "year": parts[0][0] if parts[0] else None,
        "month": parts[0][1] if len(parts[0]) > 1 else None,
        "volume": item.get("volume", ""),
        "issue": item.get("issue", ""),
        "first_page": first,
        "last_page": last,
        "doi": item.get("DOI", ""),
        "pmid": item.get("PMID", ""),
        "abstract": item.get("abstract", ""),
    }


@cache
def _style():
    return CitationStylesStyle("harvard-cite-them-right", validate=False)


def read_citeproc(text):
    """citeproc-py reads the item (its own CSL-JSON reader) and renders a
    bibliography entry; the fields come from its reference, the entry must
    name the first author and carry the title."""
    items = json.loads(text)
    source = CiteProcJSON(items)
    key = items[0]["id"].lower()
    reference = source[key]
    bibliography = CitationStylesBibliography(_style(), source, formatter.plain)
    bibliography.register(Citation([CitationItem(key)]))
    rendered = " ".join(str(entry) for entry in bibliography.bibliography())
    authors = [[str(name.get("family") or ""), str(name.get("given") or "")] for name in reference.get("author", [])]
    issued = reference.get("issued") or {}
    first, last = split_pages(str(reference.get("page", "") or ""))
    title = str(reference.get("title", "") or "")
    result = {
        "title": title,
        "authors": authors,
        "container": str(reference.get("container_title", "") or ""),
        "year": issued.get("year"),
        "month": issued.get("month"),
        "volume": str(reference.get("volume", "") or ""),
        "issue": str(reference.get("issue", "") or ""),
        "first_page": first,
        "last_page": last,
        "doi": str(reference.get("DOI", "") or ""),
        "pmid": str(reference.get("PMID", "") or ""),
        "abstract": str(reference.get("abstract", "") or ""),
    }
    if authors and text_key(authors[0][0]).split()[0] not in text_key(rendered):
        result["rendered"] = f"bibliography entry lacks the first author: {rendered[:120]}"
    return result


READERS = {
    "bibtex": lambda study: read_bibtex(cite.to_bibtex([study])),
    "pybtex": lambda study: read_pybtex(cite.to_bibtex([study])),
    "ris": lambda study: read_ris(cite.to_ris([study])),
    "csljson": lambda study: read_csljson(cite.to_csl_json([study])),
    "citeproc": lambda study: read_citeproc(cite.to_csl_json([study])),
}


def differences(want, got):
    """Fields that differ, as {field: (wanted, got)}."""
    want, got_norm = normalised(want), normalised(got)
    diff = {field: (want[field], got_norm[field]) for field in FIELDS if want[field] != got_norm[field]}
    if got.get("rendered"):
        diff["rendered"] = ("", got["rendered"])
    return diff


# One file ------------------------------------------------------------------------------------------


def _import(path, fmt):
    options = {"source": path, "fmt": fmt}
    if "skip_invalid" in inspect.signature(study_import).parameters:
        options["skip_invalid"] = True
    try:
        return study_import(**options)
    except ImportRefused as refused:
        return refused.report
    except Exception as error:  # measured, not hidden: the test fails on crashes
        CRASHES.append((str(path.name), repr(error)))
        return None


def round_trip(name):
    """[(record number, expected, {export: differences} or None when the
    record became no study)] for one sample file, e.g. "ris/scopus.ris"."""
    fmt = name.split("/")[0]
    report = _import(REAL / name, fmt)
    studies, repeats = {}, set()
    if report is not None:
        ids = {outcome.study_id for outcome in report.outcomes if outcome.study_id}
        found = Study.objects.in_bulk(ids)
        for outcome in report.outcomes:
            if re.match(r"the same paper as record \d+", outcome.message or ""):
                repeats.add(outcome.number)
            elif outcome.study_id in found:
                studies[outcome.number] = found[outcome.study_id]
    results = []
    for number, want in enumerate(expected()[name], 1):
        if not want.get("title"):
            results.append((number, want, "stub"))
            continue
        if number in repeats:
            # Same title and year as an earlier record (and no DOI or PMID
            # to tell them apart): the importer keeps the first, by design.
            results.append((number, want, "repeat"))
            continue
        study = studies.get(number)
        if study is None:
            results.append((number, want, None))
            continue
        results.append((number, want, {export: differences(want, READERS[export](study)) for export in EXPORTS}))
    # Each file on its own: a paper in two sample files is not "the same" here.
    Study.objects.all().delete()
    return results


def scores():
    """{source format: {"read", "faithful", "stubs", per export: faithful}} and the failures."""
    table, failures = {}, []
    for name in sorted(expected()):
        fmt = name.split("/")[0]
        row = table.setdefault(fmt, {"read": 0, "faithful": 0, "stubs": 0, "repeats": 0, **dict.fromkeys(EXPORTS, 0)})
        for number, want, result in round_trip(name):
            if result in ("stub", "repeat"):
                row[result + "s"] += 1
                continue
            row["read"] += 1
            if result is None:
                failures.append((name, number, want["title"][:60], "not imported"))
                continue
            for export, diff in result.items():
                if not diff:
                    row[export] += 1
            if all(not diff for diff in result.values()):
                row["faithful"] += 1
            else:
                failures.append((name, number, want["title"][:60], {e: d for e, d in result.items() if d}))
    return table, failures


def format_scores(table):
    lines = [f"{'source':<8} {'faithful':>12} " + " ".join(f"{e:>9}" for e in EXPORTS) + "  stubs  repeats"]
    for fmt, row in sorted(table.items()):
        share = f"{row['faithful']}/{row['read']}"
        lines.append(
            f"{fmt:<8} {share:>12} "
            + " ".join(f"{row[e]:>9}" for e in EXPORTS)
            + f"  {row['stubs']:>5}  {row['repeats']:>7}"
        )
    return "\n".join(lines)
