"""What a study's page head tells machines: Google Scholar / Highwire
citation tags, schema.org JSON-LD, OpenGraph."""

from common.metadata import description_of, json_ld, opengraph

from .cite import split_pages


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
    citation += [
        ("citation_journal_title", study.journal),
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
    scholarly = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "headline": study.title[:110],
        "name": study.citation_title,
        "url": url,
        "description": description,
        "author": [
            {
                "@type": "Person",
                "familyName": a.get("family", ""),
                "givenName": a.get("given", ""),
                "name": " ".join(filter(None, [a.get("given", ""), a.get("family", "")])),
            }
            for a in study.authors
        ],
        "datePublished": date.replace("/", "-"),
        "isPartOf": {"@type": "Periodical", "name": study.journal} if study.journal else None,
        "volumeNumber": study.volume,
        "issueNumber": study.issue,
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
