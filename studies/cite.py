"""Citation exports of studies: BibTeX, RIS and CSL-JSON.

Each format is written from the fields a study holds — authors in order,
title, journal (a chapter's book title), publisher, year and month, volume,
issue, pages, DOI, PMID, URL, abstract, tags as keywords, the study type
where the format has a place for it, a retraction, correction or expression
of concern as a note (and CSL's ``status``) — and checked in tests by independent
parsers (bibtexparser 2, pybtex, rispy, json, citeproc-py), also on real
files imported from other tools (tests/studies/importing/roundtrip.py). The
callers pass published studies only.
"""

import json
import re
import unicodedata
from dataclasses import dataclass

from django.http import Http404, HttpResponse

from .importing.formats.base import TYPE_NAMES
from .models import StudyType


@dataclass(frozen=True)
class CitationFormat:
    extension: str
    content_type: str


FORMATS = {
    "bib": CitationFormat("bib", "application/x-bibtex; charset=utf-8"),
    "ris": CitationFormat("ris", "application/x-research-info-systems; charset=utf-8"),
    "json": CitationFormat("json", "application/vnd.citationstyles.csl+json; charset=utf-8"),
}

BIBTEX_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
BIBTEX_TYPES = {StudyType.BOOK: "book", StudyType.CHAPTER: "incollection"}
RIS_TYPES = {StudyType.BOOK: "BOOK", StudyType.CHAPTER: "CHAP"}
CSL_TYPES = {StudyType.BOOK: "book", StudyType.CHAPTER: "chapter"}


def one_line(text):
    return " ".join((text or "").split())


def split_pages(pages):
    """'100-110' → ('100', '110'); 'e1222' → ('e1222', '')."""
    first, _, last = re.sub(r"\s*[-–—]+\s*", "-", one_line(pages)).partition("-")
    return first, last


def publisher(study):
    """A book's publisher; books imported or entered before studies had a
    publisher field kept it in ``journal``, which exports wrote as publisher."""
    if study.study_type == StudyType.BOOK:
        return study.publisher or study.journal
    return study.publisher


def container(study):
    """The journal, or a chapter's book title; a book has none."""
    return "" if study.study_type == StudyType.BOOK else study.journal


def notice_note(study, separator=". "):
    """A retraction, correction or expression of concern as a note: "Retracted.
    Retraction in: J Nutr. 2021;151(3):700. https://doi.org/…"; "" without one.
    (RIS writes "Retracted: …"; our importer reads both back, formats.base.)"""
    if not study.notice:
        return ""
    url = study.notice_url if study.notice_url and study.notice_url not in study.notice_citation else ""
    details = " ".join(part for part in (one_line(study.notice_citation), url) if part)
    return study.notice_label + (separator + details if details else ".")


def keywords(study):
    # Reads the prefetched tags (tags.names() would query again).
    return sorted((tag.name for tag in study.tags.all()), key=str.lower)


# BibTeX ------------------------------------------------------------------

_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def bibtex_escape(text):
    return "".join(_BIBTEX_SPECIAL.get(char, char) for char in one_line(text))


def ascii_word(text):
    return re.sub(
        r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    )


def bibtex_key(study):
    """'schurgers2020vitamin': first author, year, first long title word."""
    family = ascii_word(study.authors[0].get("family", "")) if study.authors else ""
    word = next((ascii_word(w) for w in study.citation_title.split() if len(ascii_word(w)) > 3), "")
    return f"{family}{study.year or ''}{word}" or ascii_word(study.slug) or f"study{study.pk}"


def _name_part(text):
    escaped = bibtex_escape(text)
    # A comma or "and" inside a part would split the name (or the list) in two.
    return "{" + escaped + "}" if "," in escaped or re.search(r"\band\b", escaped, re.IGNORECASE) else escaped


def bibtex_name(author):
    family, given = author.get("family", ""), author.get("given", "")
    if not given:
        # A group author stays whole: braces stop BibTeX splitting it.
        return "{" + bibtex_escape(family) + "}"
    return f"{_name_part(family)}, {_name_part(given)}"


# Words a style must not lowercase, as reference managers protect them in
# titles: capitals after the first letter (GTPase, DNA, mRNA, McArdle),
# capitals with digits (K2, B12, COVID-19), single capitals (vitamin D) and,
# in a title written in sentence case, every capitalised word after the
# first (proper nouns: China, Rotterdam, Alzheimer).
_WORD = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)
_SENTENCE_END = (":", "?", "!", ".", "—", "–")


def _needs_protection(part, proper_noun):
    letters = [char for char in part if char.isalpha()]
    if not letters or not any(char.isupper() for char in letters):
        return False
    if any(char.isupper() for char in part[1:] if char.isalpha()):
        return True  # GTPase, DNA, mRNA
    if any(char.isdigit() for char in part):
        return True  # K2, B12
    if len(letters) == 1 and part != "A":
        return True  # vitamin D, type I
    return proper_noun and part[:1].isupper()


def _sentence_case(words):
    """Whether a title is in sentence case: at least half its plain longer
    words after the first (no capitals inside, no digits) in lower case."""
    later = [
        word
        for word in (word.strip("\"'“”‘’()[],.:;?!") for word in words[1:])
        if len(word) > 3 and word.isalpha() and not any(char.isupper() for char in word[1:])
    ]
    if not later:
        return False
    return sum(word[:1].isupper() for word in later) * 2 <= len(later)


def bibtex_title(title):
    """A title with the words a style must not lowercase in braces."""
    words = one_line(title).split(" ")
    sentence_case = _sentence_case(words)
    out, starts_sentence = [], True
    for word in words:
        lead, core, trail = _WORD.match(word).groups()
        if not core:
            out.append(bibtex_escape(word))
            starts_sentence = starts_sentence or word.endswith(_SENTENCE_END)
            continue
        parts = re.split(r"([-/])", core)
        protected = []
        for part in parts:
            proper = sentence_case and not starts_sentence
            escaped = bibtex_escape(part)
            protected.append("{" + escaped + "}" if part not in "-/" and _needs_protection(part, proper) else escaped)
        out.append(bibtex_escape(lead) + "".join(protected) + bibtex_escape(trail))
        starts_sentence = word.endswith(_SENTENCE_END)
    return " ".join(out)


def to_bibtex(studies):
    records, used_keys = [], set()
    for study in studies:
        key = base = bibtex_key(study)
        suffix = ord("a")
        while key in used_keys:
            key = f"{base}{chr(suffix)}"
            suffix += 1
        used_keys.add(key)
        first, last = split_pages(study.pages)
        chapter = study.study_type == StudyType.CHAPTER
        fields = [
            ("author", " and ".join(bibtex_name(author) for author in study.authors)),
            ("title", bibtex_title(study.citation_title)),
            ("journal", bibtex_escape(container(study)) if not chapter else ""),
            ("booktitle", bibtex_escape(container(study)) if chapter else ""),
            ("publisher", bibtex_escape(publisher(study))),
            ("year", str(study.year or "")),
            ("volume", bibtex_escape(study.volume)),
            ("number", bibtex_escape(study.issue)),
            ("pages", f"{bibtex_escape(first)}--{bibtex_escape(last)}" if last else bibtex_escape(first)),
            ("doi", bibtex_escape(study.doi)),
            ("pmid", bibtex_escape(study.pmid)),
            ("url", bibtex_escape(study.url)),
            ("abstract", bibtex_escape(study.abstract)),
            ("keywords", bibtex_escape(", ".join(keywords(study)))),
            # Every BibTeX style prints a note (biblatex's pubstate has no "retracted").
            ("note", bibtex_escape(notice_note(study))),
        ]
        lines = [f"@{BIBTEX_TYPES.get(study.study_type, 'article')}{{{key},"]
        lines += [f"  {name} = {{{value}}}," for name, value in fields if value]
        if study.month:
            # The standard month macro: every BibTeX style knows it.
            lines.append(f"  month = {BIBTEX_MONTHS[study.month - 1]},")
        lines.append("}")
        records.append("\n".join(lines))
    return "\n\n".join(records) + "\n"


# RIS ---------------------------------------------------------------------


def to_ris(studies):
    lines = []
    for study in studies:
        first, last = split_pages(study.pages)
        date = (
            f"{study.year:04d}/{study.month:02d}//"
            if study.year and study.month
            else (f"{study.year:04d}///" if study.year else "")
        )
        kind = RIS_TYPES.get(study.study_type, "JOUR")
        fields = [("TY", kind)]
        fields += [("AU", ", ".join(filter(None, [a.get("family", ""), a.get("given", "")]))) for a in study.authors]
        fields += [
            ("TI", study.citation_title),
            ("T2", container(study)),  # a chapter's book title; an article's journal
            ("JO", container(study) if kind == "JOUR" else ""),
            ("PB", publisher(study)),
            ("PY", str(study.year or "")),
            ("DA", date),
            ("VL", study.volume),
            ("IS", study.issue),
            ("SP", first),
            ("EP", last),
            ("DO", study.doi),
            ("UR", study.url),
            ("AB", study.abstract),
            # The PMID as EndNote files PubMed records, and rispy and our
            # importer read it back: the accession number of database PubMed
            # from provider NLM. (RIS has no PMID tag; C2 is the PMCID.)
            ("AN", study.pmid),
            ("DB", "PubMed" if study.pmid else ""),
            ("DP", "NLM" if study.pmid else ""),
        ]
        fields += [("KW", name) for name in keywords(study)]
        fields.append(("N1", notice_note(study, separator=": ")))
        lines += [f"{tag}  - {one_line(value)}" for tag, value in fields if one_line(value)]
        lines += ["ER  - ", ""]
    # RIS is line-based with CRLF line ends, as reference managers expect.
    return "\r\n".join(lines)


# CSL-JSON ----------------------------------------------------------------


def csl_item(study):
    item = {
        "id": study.slug,
        "type": CSL_TYPES.get(study.study_type, "article-journal"),
        "title": study.citation_title,
        "author": [{key: author[key] for key in ("family", "given") if author.get(key)} for author in study.authors],
        "container-title": container(study),
        "publisher": publisher(study),
        # CSL's place for a subtype; our importer (and Zotero) read it back.
        "genre": TYPE_NAMES.get(study.study_type),
        "issued": {"date-parts": [[study.year, study.month] if study.month else [study.year]]} if study.year else None,
        "volume": study.volume,
        "issue": study.issue,
        "page": re.sub(r"\s*[-–—]+\s*", "-", one_line(study.pages)),
        "DOI": study.doi,
        "PMID": study.pmid,
        "URL": study.url,
        "abstract": study.abstract,
        "keyword": ", ".join(keywords(study)),
        # CSL 1.0.2's publication status ("retracted" is its own example);
        # the note carries the notice's citation for styles that print notes.
        "status": study.notice_label.lower(),
        "note": notice_note(study),
    }
    return {key: value for key, value in item.items() if value}


def to_csl_json(studies):
    return json.dumps([csl_item(study) for study in studies], ensure_ascii=False, indent=2) + "\n"


WRITERS = {"bib": to_bibtex, "ris": to_ris, "json": to_csl_json}


def citation_response(studies, *, filename, extension):
    """The studies as a download in the format named by ``extension``
    (``bib``, ``ris``, ``json``); an unknown format is a 404."""
    if extension not in FORMATS:
        raise Http404("No such citation format.")
    response = HttpResponse(WRITERS[extension](studies), content_type=FORMATS[extension].content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    return response
