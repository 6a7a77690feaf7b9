"""Fill a study from its DOI (Crossref) or PMID (PubMed E-utilities).

``lookup(identifier)`` asks the service and returns Study field values, or
raises ``LookupFailed`` with a sentence an editor understands (not found;
no answer in time; an answer that can't be read; no network). The study
admin calls it from ``admin_lookup_view`` (admin/studies/study/lookup/?id=…),
which static/k2site/admin/fill_from_identifier.js asks when the editor
clicks "Fill from DOI or PMID".

The values go through the importers' ``clean_record`` (markup dropped from
titles and abstracts, lengths checked, publication types mapped), so a study
filled here reads like one imported from a reference file. The two answers
are read here rather than by the import formats: Crossref's REST ``message``
is close to CSL-JSON but not it (its own type names, "book-chapter"; the
print date belongs with volume and issue), and PubMed's efetch XML is not
the MEDLINE text format.

Only the standard library talks to the services: urllib with a short time
limit (LOOKUP_TIMEOUT) and a User-Agent naming the site and its address, as
Crossref's etiquette asks; the base URLs are settings (CROSSREF_API_URL,
PUBMED_EUTILS_URL), so tests point them at a local server.
"""

import http.client
import json
import logging
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from email.utils import parseaddr

from django.conf import settings
from django.http import JsonResponse

from .forms import _author_line
from .identifiers import is_doi, is_pmid, normalise_doi, normalise_pmid
from .importing.formats import RecordError, SourceRecord, clean_record
from .importing.formats.base import month_number, study_type_from, year_and_month
from .importing.formats.medline import expand_pages

logger = logging.getLogger(__name__)

DEFAULT_CROSSREF_API_URL = "https://api.crossref.org"
DEFAULT_PUBMED_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
DEFAULT_TIMEOUT = 5
# A work's record is a few kB to a few hundred (long reference lists);
# more than this is not an answer to our question.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
MAX_IDENTIFIER_LENGTH = 300

# Crossref's work types that are our books and chapters; the others (journal
# articles, proceedings, preprints…) say nothing about the kind of study.
CROSSREF_KINDS = {
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "reference-entry": "chapter",
}

# What each failure answers with in the admin view.
NOT_FOUND, BAD_REQUEST, TIMEOUT, UNREADABLE, OFFLINE = 404, 400, 504, 502, 502


class LookupFailed(Exception):
    """The lookup found nothing usable; ``message`` says why to an editor,
    ``status`` is the HTTP status the admin view answers with."""

    def __init__(self, message, status=UNREADABLE):
        super().__init__(message)
        self.message = message
        self.status = status


# -- which service --------------------------------------------------------------------------------


def identify(identifier):
    """("doi", "10.…") or ("pmid", "123…") for what an editor pasted;
    LookupFailed for anything else."""
    text = " ".join(str(identifier or "").split())
    if not text:
        raise LookupFailed("Type a DOI or a PubMed ID first.", BAD_REQUEST)
    if len(text) > MAX_IDENTIFIER_LENGTH:
        raise LookupFailed("That is too long to be a DOI or a PubMed ID.", BAD_REQUEST)
    doi = normalise_doi(text)
    if is_doi(doi):
        return "doi", doi
    pmid = normalise_pmid(text)
    if is_pmid(pmid):
        return "pmid", pmid
    raise LookupFailed(
        f"“{text}” is neither a DOI (it starts with 10. and has a /, e.g. 10.3390/nu13041222) "
        "nor a PubMed ID (digits, e.g. 33919123).",
        BAD_REQUEST,
    )


def service_name(kind):
    return "Crossref" if kind == "doi" else "PubMed"


def lookup(identifier):
    """Study field values for a DOI or PMID: title, paper_title, authors
    ([{"family", "given"}] in order), journal, publisher (books), year,
    month (a number), volume, issue, pages, doi, pmid, abstract (plain text,
    paragraphs separated by a blank line) and study_type where the source
    says one. Only what the source has is returned."""
    kind, value = identify(identifier)
    if kind == "doi":
        body = _get(crossref_url(value), "Crossref", not_found=f"Crossref has no record of the DOI {value}.")
        parse, service = parse_crossref, "Crossref"
    else:
        body = _get(pubmed_url(value), "PubMed", not_found=f"PubMed has no record with the PMID {value}.")
        parse, service = (lambda content: parse_pubmed(content, value)), "PubMed"
    try:
        data = parse(body)
    except LookupFailed:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, ET.ParseError) as exc:
        # json.JSONDecodeError is a ValueError; a record of an unexpected
        # shape fails somewhere in the reading.
        logger.warning("%s answered something unreadable for %s: %r", service, value, exc)
        raise _unreadable(service) from exc
    if kind == "doi" and not data.get("doi"):
        data["doi"] = value
    return _clean(data, service, value)


def _clean(data, service, identifier):
    try:
        fields = clean_record(SourceRecord(number=1, line=1, data=data)).fields
    except RecordError as exc:
        raise LookupFailed(f"{service}'s record for {identifier} can't be used: {exc}", UNREADABLE) from exc
    fields["doi"] = normalise_doi(fields.get("doi"))
    fields["pmid"] = normalise_pmid(fields.get("pmid"))
    if study_type_from(data.get("types")) is None:
        fields.pop("study_type", None)  # the source doesn't say; the editor decides
    else:
        fields["study_type"] = str(fields["study_type"])
    return {name: value for name, value in fields.items() if value not in (None, "", [])}


# -- HTTP -----------------------------------------------------------------------------------------


def _setting(name, default):
    return getattr(settings, name, None) or default


def timeout():
    return float(_setting("LOOKUP_TIMEOUT", DEFAULT_TIMEOUT))


def contact_address():
    return parseaddr(getattr(settings, "DEFAULT_FROM_EMAIL", "") or "")[1]


def user_agent():
    """'K2 Site (mailto:editors@example.org)': who is asking, as Crossref's
    etiquette asks (the "polite" pool)."""
    site = getattr(settings, "SITE_NAME", "") or "K2 Site"
    address = contact_address()
    return f"{site} (mailto:{address})" if address else site


def crossref_url(doi):
    base = _setting("CROSSREF_API_URL", DEFAULT_CROSSREF_API_URL).rstrip("/")
    return f"{base}/works/{urllib.parse.quote(doi, safe='/')}"


def pubmed_url(pmid):
    base = _setting("PUBMED_EUTILS_URL", DEFAULT_PUBMED_EUTILS_URL).rstrip("/")
    query = {"db": "pubmed", "id": pmid, "retmode": "xml"}
    # E-utilities ask callers to name their tool and a contact address.
    query["tool"] = re.sub(r"\W+", "-", getattr(settings, "SITE_NAME", "") or "k2site").strip("-") or "k2site"
    if contact_address():
        query["email"] = contact_address()
    return f"{base}/efetch.fcgi?{urllib.parse.urlencode(query)}"


def _unreadable(service):
    return LookupFailed(
        f"{service} answered something that can't be read. Try again later, or fill in the fields by hand.",
        UNREADABLE,
    )


def _get(url, service, *, not_found):
    """The body of a 200 answer; LookupFailed for everything else."""
    limit = timeout()
    request = urllib.request.Request(url, headers={"User-Agent": user_agent(), "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=limit) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in (400, 404, 410):
            raise LookupFailed(f"{not_found} Check it, or fill in the fields by hand.", NOT_FOUND) from None
        raise LookupFailed(
            f"{service} is not answering properly right now (HTTP {exc.code}). Try again in a minute, "
            "or fill in the fields by hand.",
            UNREADABLE,
        ) from None
    except TimeoutError as exc:  # socket.timeout is TimeoutError
        raise _timed_out(service, limit) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _timed_out(service, limit) from exc
        if isinstance(exc.reason, ssl.SSLError):
            raise LookupFailed(
                f"{service} could not be reached securely ({exc.reason}). Fill in the fields by hand.", OFFLINE
            ) from exc
        raise LookupFailed(
            f"No network: {service} could not be reached. Fill in the fields by hand, or try again later.", OFFLINE
        ) from exc
    except http.client.HTTPException as exc:  # cut off mid-answer, or not HTTP at all
        logger.warning("Looking up %s failed: %r", url, exc)
        raise _unreadable(service) from exc
    except (OSError, ValueError) as exc:  # a connection reset; a malformed base URL
        logger.warning("Looking up %s failed: %r", url, exc)
        raise LookupFailed(
            f"No network: {service} could not be reached. Fill in the fields by hand, or try again later.", OFFLINE
        ) from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise _unreadable(service)
    return body


def _timed_out(service, limit):
    seconds = f"{limit:g} second" + ("" if limit == 1 else "s")
    return LookupFailed(
        f"{service} did not answer within {seconds}. Try again in a moment, or fill in the fields by hand.", TIMEOUT
    )


# -- Crossref -------------------------------------------------------------------------------------


def _first(value):
    """Crossref gives titles as lists; the first, as text."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value) if isinstance(value, (str, int, float)) else ""


def _date_parts(value):
    parts = (value or {}).get("date-parts") if isinstance(value, dict) else None
    first = parts[0] if isinstance(parts, list) and parts and isinstance(parts[0], list) else []
    year = first[0] if len(first) > 0 and isinstance(first[0], int) else None
    month = first[1] if len(first) > 1 and isinstance(first[1], int) else None
    return year, month


def parse_crossref(body):
    """A Crossref ``/works/{doi}`` answer → a record for clean_record."""
    answer = json.loads(body)
    if not isinstance(answer, dict) or answer.get("message-type", "work") != "work":
        raise ValueError("not a work")
    work = answer["message"]
    if not isinstance(work, dict):
        raise ValueError("no message")
    kind = CROSSREF_KINDS.get(str(work.get("type") or ""))
    title = _first(work.get("title"))
    subtitle = _first(work.get("subtitle"))
    if subtitle and subtitle.casefold() not in title.casefold():
        title = f"{title.rstrip()}: {subtitle.strip()}"
    # The print date goes with volume and issue; "issued" is the earliest
    # of print and online, the one that exists for online-only journals.
    year, month = None, None
    for key in ("published-print", "journal-issue", "issued", "published-online"):
        source = work.get(key)
        if key == "journal-issue" and isinstance(source, dict):
            source = source.get("published-print")
        year, month = _date_parts(source)
        if year:
            break
    people = work.get("author") or (work.get("editor") if kind == "book" else None) or []
    authors = []
    for person in people:
        if not isinstance(person, dict):
            continue
        if person.get("family") or person.get("given"):
            authors.append({"family": _first(person.get("family")), "given": _first(person.get("given"))})
        elif person.get("name"):  # an organisation
            authors.append({"family": _first(person.get("name")), "given": ""})
    return {
        "title": title,
        "authors": authors,
        "journal": "" if kind == "book" else _first(work.get("container-title")),
        "publisher": _first(work.get("publisher")) if kind else "",
        "year": year,
        "month": month,
        "volume": _first(work.get("volume")),
        "issue": _first(work.get("issue")),
        "pages": _first(work.get("page")),
        "doi": _first(work.get("DOI")),
        "abstract": _first(work.get("abstract")),
        "types": [kind] if kind else [],
    }


# -- PubMed ---------------------------------------------------------------------------------------


def _text(element):
    """An element's text with inline markup (<i>, <sub>…) dropped, one line."""
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _child_text(element, path):
    return _text(element.find(path)) if element is not None else ""


def parse_pubmed(body, pmid):
    """An efetch PubmedArticleSet → a record for clean_record (the article
    whose PMID was asked for)."""
    if b"<!ENTITY" in body:
        raise ValueError("entity declarations")  # no answer of PubMed's has any
    root = ET.fromstring(body)
    if root.tag == "eFetchResult" and root.find("ERROR") is not None:
        raise LookupFailed(f"PubMed has no record with the PMID {pmid}: {_child_text(root, 'ERROR')}", NOT_FOUND)
    if root.tag != "PubmedArticleSet":
        raise ValueError(f"root {root.tag}")
    for article in root.findall("PubmedArticle"):
        if _child_text(article, "MedlineCitation/PMID") == pmid:
            return _pubmed_article(article, pmid)
    for book in root.findall("PubmedBookArticle"):
        if _child_text(book, "BookDocument/PMID") == pmid:
            return _pubmed_book(book, pmid)
    raise LookupFailed(
        f"PubMed has no record with the PMID {pmid}. Check it, or fill in the fields by hand.", NOT_FOUND
    )


def _authors(author_list):
    """Authors in order: "Knapen, Marjo H J" keeps the fore name; an author
    PubMed knows only by initials keeps them as PubMed writes them ("MH")."""
    authors = []
    for author in author_list.findall("Author") if author_list is not None else []:
        if author.get("ValidYN", "Y") != "Y":
            continue
        group = _child_text(author, "CollectiveName")
        if group:
            authors.append({"family": group, "given": ""})
            continue
        family = _child_text(author, "LastName")
        fore, initials = _child_text(author, "ForeName"), _child_text(author, "Initials")
        # "M H" is initials spelled out: PubMed's own "MH" is the same and is
        # what the form writes back as "Knapen MH".
        if initials and (not fore or all(len(part) == 1 for part in fore.replace(".", " ").split())):
            fore = initials
        if family or fore:
            authors.append({"family": family, "given": fore})
    return authors


def _abstract(abstract):
    """Sections as paragraphs, each with its label ("BACKGROUND: …")."""
    paragraphs = []
    for section in abstract.findall("AbstractText") if abstract is not None else []:
        text = _text(section)
        label = (section.get("Label") or "").strip()
        if text and label and label.upper() != "UNLABELLED":
            text = f"{label}: {text}"
        if text:
            paragraphs.append(text)
    return "\n\n".join(paragraphs)


def _pub_date(date):
    if date is None:
        return None, None
    year = _child_text(date, "Year")
    if year:
        return year, month_number(_child_text(date, "Month"))
    return year_and_month(_child_text(date, "MedlineDate"))  # "1998 Dec-1999 Jan"


def _article_doi(container):
    """The DOI from the record's own ArticleIdList (not its references')."""
    for article_id in container.findall("ArticleIdList/ArticleId"):
        if article_id.get("IdType") == "doi" and _text(article_id):
            return _text(article_id)
    return ""


def _pubmed_article(article, pmid):
    citation = article.find("MedlineCitation")
    paper = citation.find("Article")
    if paper is None:
        raise ValueError("no Article")
    issue = paper.find("Journal/JournalIssue")
    year, month = _pub_date(issue.find("PubDate") if issue is not None else None)
    pages = expand_pages(_child_text(paper, "Pagination/MedlinePgn"))
    if not pages:
        start, end = _child_text(paper, "Pagination/StartPage"), _child_text(paper, "Pagination/EndPage")
        pages = f"{start}-{end}" if start and end else start
    doi = _article_doi(article.find("PubmedData")) if article.find("PubmedData") is not None else ""
    if not doi:
        doi = next(
            (_text(location) for location in paper.findall("ELocationID") if location.get("EIdType") == "doi"), ""
        )
    return {
        "title": _child_text(paper, "ArticleTitle") or _child_text(paper, "VernacularTitle"),
        "authors": _authors(paper.find("AuthorList")),
        "journal": _child_text(paper, "Journal/Title") or _child_text(paper, "Journal/ISOAbbreviation"),
        "year": year,
        "month": month,
        "volume": _child_text(issue, "Volume"),
        "issue": _child_text(issue, "Issue"),
        "pages": pages,
        "doi": doi,
        "pmid": pmid,
        "abstract": _abstract(paper.find("Abstract")),
        "types": [_text(kind) for kind in paper.findall("PublicationTypeList/PublicationType")],
    }


def _pubmed_book(book_article, pmid):
    """A PubMed Bookshelf record: a chapter (its own title, the book's as
    journal) or a whole book."""
    document = book_article.find("BookDocument")
    book = document.find("Book")
    book_title = _child_text(book, "BookTitle")
    chapter_title = _child_text(document, "ArticleTitle")
    # A chapter's own date ("2006 Feb 15 [Updated …]" in PubMed's citation), else the book's.
    contributed = document.find("ContributionDate") if chapter_title else None
    year, month = _pub_date(contributed if contributed is not None else book.find("PubDate"))
    author_lists = document.findall("AuthorList") or (book.findall("AuthorList") if book is not None else [])
    authors = next((_authors(found) for found in author_lists if found.get("Type", "authors") == "authors"), [])
    if not authors and author_lists:
        authors = _authors(author_lists[0])  # an edited book: its editors
    return {
        "title": chapter_title or book_title,
        "authors": authors,
        "journal": book_title if chapter_title else "",
        "publisher": _child_text(book, "Publisher/PublisherName"),
        "year": year,
        "month": month,
        "doi": _article_doi(document) or (_article_doi(book) if book is not None else ""),
        "pmid": pmid,
        "abstract": _abstract(document.find("Abstract")),
        "types": [_text(kind) for kind in document.findall("PublicationType")]
        + ["chapter" if chapter_title else "book"],
    }


# -- the admin view -------------------------------------------------------------------------------


def form_values(fields):
    """Study field values as the admin form's widgets hold them: the
    authors as lines ("Knapen MH", "Drummen, Nadja E"), numbers as text."""
    values = {}
    for name, value in fields.items():
        if name == "authors":
            values[name] = "\n".join(_author_line(author) for author in value)
        else:
            values[name] = str(value)
    return values


def admin_lookup_view(model_admin, request):
    """GET ?id=<DOI or PMID> → {"fields": {name: form value}, "source": "Crossref"}
    or {"error": message} with 400/403/404/405/502/504. Staff who may add or
    change studies only (the admin site's admin_view checks staff and
    adds never_cache first)."""
    if request.method != "GET":
        return JsonResponse({"error": "Use GET."}, status=405)
    if not (model_admin.has_add_permission(request) or model_admin.has_change_permission(request)):
        return JsonResponse({"error": "You may not add or change studies."}, status=403)
    identifier = request.GET.get("id", "")
    try:
        kind, _ = identify(identifier)
        fields = lookup(identifier)
    except LookupFailed as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    except Exception:  # a surprise in someone else's answer must not become a 500
        logger.exception("Looking up %r failed", identifier)
        return JsonResponse(
            {"error": "The lookup failed unexpectedly. Fill in the fields by hand; the error was logged."}, status=502
        )
    return JsonResponse({"fields": form_values(fields), "source": service_name(kind)})
