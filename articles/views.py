from django.shortcuts import get_object_or_404, render

from k2site.markdown import render_markdown
from k2site.models import Entry, EntryKind
from k2site.pagination import paginate

from .models import Article


def article_list(request):
    # The listing index holds what a list line shows; no need to read bodies.
    articles = Entry.objects.published().filter(kind=EntryKind.ARTICLE).listing()
    return render(request, "articles/list.html", {"page": paginate(request, articles)})


def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published().for_detail(), slug=slug)
    body_html, toc = render_markdown(article.body, with_toc=True)
    return render(
        request,
        "articles/detail.html",
        {
            "article": article,
            "body_html": body_html,
            "toc": toc,
            "tags": list(article.tags.all()),
            "related_studies": list(article.related_studies.published().order_by("-year", "-month")),
        },
    )
