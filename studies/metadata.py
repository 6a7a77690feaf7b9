"""What a study's page head tells machines: Google Scholar / Highwire
citation tags, schema.org JSON-LD, OpenGraph."""

from common.metadata import description_of, json_ld, opengraph

from .cite import container, publisher, split_pages
from .models import StudyType

SCHEMA_TYPES = {StudyType.BOOK: "Book", StudyType.CHAPTER: "Chapter"}


def schema_person(author):
    """A person, or an organisation for a group author (a family name alone)."""
    family, given = author.get("family", ""), author.get("given", "")
    if not given:
        return {"@type": "Organization", "name": family}
    return {"@type": "Person", "familyName": family, "givenName": given, "name": f"{given} {family}"}


def part_of(study):
    """schema.org's nesting: an article is part of an issue, of a volume, of
    the periodical (volumeNumber/issueNumber live on those, not on the
    article); a chapter is part of its book."""
    if study.study_type == StudyType.CHAPTER:
        book = {"@type": "Book", "name": study.journal} if study.journal else None
        if book and study.publisher:
            book["publisher"] = {"@type": "Organization", "name": study.publisher}
        return book
    name = container(study)
    if not name:
        return None
    part = {"@type": "Periodical", "name": name}
    if study.volume:
        part = {"@type": "PublicationVolume", "volumeNumber": study.volume, "isPartOf": part}
    if study.issue:
        part = {"@type": "PublicationIssue", "issueNumber": study.issue, "isPartOf": part}
    return part


def study_metadata(request, study, tags):
    url = request.build_absolute_uri(study.get_absolute_url())
    description = description_of(study.abstract or study.summary)
    first_page, last_page = split_pages(study.pages)
    pdf_url = request.build_absolute_uri(study.get_pdf_url()) if study.pdf else ""
    date = ""
    if study.year:
        date = f"{study.year}/{study.month:02d}" if study.month else str(study.year)
    citation = [("citation_title", study.citation_title)]
    citation += [
        ("citation_author", ", ".join(filter(None, [author.get("family", ""), author.get("given", "")])))
        for author in study.authors
    ]
    chapter = study.study_type == StudyType.CHAPTER
    citation += [
        ("citation_journal_title", "" if chapter else container(study)),
        ("citation_inbook_title", study.journal if chapter else ""),
        ("citation_publisher", publisher(study) if study.study_type in SCHEMA_TYPES else ""),
        ("citation_publication_date", date),
        ("citation_volume", study.volume),
        ("citation_issue", study.issue),
        ("citation_firstpage", first_page),
        ("citation_lastpage", last_page),
        ("citation_doi", study.doi),
        ("citation_pmid", study.pmid),
        ("citation_pdf_url", pdf_url),
        ("citation_abstract_html_url", url),
    ]
    book_publisher = publisher(study) if study.study_type == StudyType.BOOK else ""
    scholarly = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES.get(study.study_type, "ScholarlyArticle"),
        "headline": study.title[:110],
        "name": study.citation_title,
        "url": url,
        "description": description,
        "author": [schema_person(author) for author in study.authors],
        "datePublished": date.replace("/", "-"),
        "isPartOf": part_of(study),
        "publisher": {"@type": "Organization", "name": book_publisher} if book_publisher else None,
        "pageStart": first_page,
        "pageEnd": last_page,
        "identifier": f"https://doi.org/{study.doi}" if study.doi else None,
        "sameAs": f"https://doi.org/{study.doi}" if study.doi else None,
        "keywords": [tag.name for tag in tags],
    }
    return {
        "meta_tags": [(name, content) for name, content in citation if content],
        "opengraph": opengraph(kind="article", title=study.title, description=description, url=url),
        "json_ld": json_ld({key: value for key, value in scholarly.items() if value}),
    }
