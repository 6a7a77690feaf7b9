from django.shortcuts import get_object_or_404, render

from k2site.markdown import render_markdown
from k2site.metadata import article_metadata
from k2site.models import Entry, EntryKind
from k2site.pagination import paginate

from .models import Article


def article_list(request):
    # The listing index holds what a list line shows; no need to read bodies.
    articles = Entry.objects.published().filter(kind=EntryKind.ARTICLE).listing()
    return render(request, "articles/list.html", {"page": paginate(request, articles)})


def detail_context(request, article):
    """What the article page shows; the staff preview renders the same."""
    body_html, toc = render_markdown(article.body, with_toc=True)
    tags = list(article.tags.all())
    return {
        "article": article,
        "body_html": body_html,
        "toc": toc,
        "tags": tags,
        "related": list(Entry.objects.related_to(article, tags)),
        "metadata": article_metadata(request, article, tags),
        "canonical_path": article.get_absolute_url(),
        "related_studies": list(article.related_studies.published().order_by("-year", "-month")),
    }


def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published().for_detail(), slug=slug)
    return render(request, "articles/detail.html", detail_context(request, article))
