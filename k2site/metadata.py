"""What a study's or article's page head tells machines: Google Scholar /
Highwire citation tags (studies), schema.org JSON-LD, OpenGraph.

Built here as (name, content) pairs and one JSON document so the template
only prints them, escaped (see templates/includes/head_metadata.html).
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from studies.cite import split_pages

DESCRIPTION_CHARS = 200

# The characters that could end a <script> element or start a comment in it,
# escaped as JSON allows (the same table as django.utils.html.json_script).
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def json_ld(data):
    """Safe to place inside <script type="application/ld+json">."""
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES))


def _description(text):
    return Truncator(" ".join(strip_tags(text or "").split())).chars(DESCRIPTION_CHARS)


def _opengraph(*, kind, title, description, url):
    return [
        ("og:type", kind),
        ("og:site_name", settings.SITE_NAME),
        ("og:title", title),
        ("og:description", description),
        ("og:url", url),
    ]


def study_metadata(request, study, tags):
    url = request.build_absolute_uri(study.get_absolute_url())
    description = _description(study.abstract or study.summary)
    first_page, last_page = split_pages(study.pages)
    pdf_url = request.build_absolute_uri(study.pdf.url) if study.pdf else ""
    if study.year:
        date = f"{study.year}/{study.month:02d}" if study.month else str(study.year)
    else:
        date = ""
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
            {"@type": "Person", "familyName": a.get("family", ""), "givenName": a.get("given", ""),
             "name": " ".join(filter(None, [a.get("given", ""), a.get("family", "")]))}
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
        "opengraph": _opengraph(kind="article", title=study.title, description=description, url=url),
        "json_ld": json_ld({key: value for key, value in scholarly.items() if value}),
    }


def article_metadata(request, article, tags):
    url = request.build_absolute_uri(article.get_absolute_url())
    description = _description(article.lead)
    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title[:110],
        "url": url,
        "description": description,
        "datePublished": article.first_published_at,
        "dateModified": article.updated_at,
        "author": (
            {"@type": "Person", "name": article.author.get_full_name() or article.author.get_username()}
            if article.author
            else {"@type": "Organization", "name": settings.SITE_NAME}
        ),
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME},
        "keywords": [tag.name for tag in tags],
    }
    opengraph = _opengraph(kind="article", title=article.title, description=description, url=url)
    if article.first_published_at:
        opengraph.append(("article:published_time", article.first_published_at.isoformat()))
    opengraph += [("article:tag", tag.name) for tag in tags]
    return {
        "meta_tags": [],
        "opengraph": opengraph,
        "json_ld": json_ld({key: value for key, value in data.items() if value}),
    }
