from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from catalog.blocks import render_body
from catalog.models import Entry, EntryKind
from common.pagination import paginate
from editorial.preview import render_preview, require_staff

from .metadata import article_metadata
from .models import Article


def article_list(request):
    # The listing index holds what a list line shows; no need to read bodies.
    articles = Entry.objects.published().filter(kind=EntryKind.ARTICLE).listing()
    return render(request, "articles/list.html", {"page": paginate(request, articles)})


def detail_context(request, article):
    """What the article page shows; the staff preview renders the same."""
    # The body with its listing blocks; the table of contents from its ## headings.
    body = render_body(article.body, exclude=article)
    tags = list(article.tags.all())
    return {
        "article": article,
        "body": body,
        "toc": body.toc,
        "tags": tags,
        "related": list(Entry.objects.related_to(article, tags)),
        "metadata": article_metadata(request, article, tags),
        "canonical_path": article.get_absolute_url(),
        "related_studies": list(article.related_studies.published().order_by("-year", "-month")),
    }


def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published().for_detail(), slug=slug)
    return render(request, "articles/detail.html", detail_context(request, article))


@never_cache
def article_preview(request, pk):
    """Staff only (404 for anyone else): the article page in any state."""
    require_staff(request, "articles.view_article")
    article = get_object_or_404(Article.objects.for_detail(), pk=pk)
    return render_preview(request, "preview/article.html", detail_context(request, article), article)
