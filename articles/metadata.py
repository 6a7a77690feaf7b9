"""What an article's page head tells machines: schema.org JSON-LD, OpenGraph."""

from django.conf import settings

from common.metadata import description_of, json_ld, opengraph


def article_metadata(request, article, tags):
    url = request.build_absolute_uri(article.get_absolute_url())
    description = description_of(article.lead)
    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title[:110],
        "url": url,
        "description": description,
        "datePublished": article.first_published_at,
        "dateModified": article.updated_at,
        # The author's full name, never the login name staff sign in with.
        "author": (
            {"@type": "Person", "name": article.byline}
            if article.byline
            else {"@type": "Organization", "name": settings.SITE_NAME}
        ),
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME},
        "keywords": [tag.name for tag in tags],
    }
    og = opengraph(kind="article", title=article.title, description=description, url=url)
    if article.first_published_at:
        og.append(("article:published_time", article.first_published_at.isoformat()))
    og += [("article:tag", tag.name) for tag in tags]
    return {
        "meta_tags": [],
        "opengraph": og,
        "json_ld": json_ld({key: value for key, value in data.items() if value}),
    }
