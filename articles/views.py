from collections import Counter

from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from catalog.blocks import render_body
from catalog.evidence import rollup, strength
from catalog.models import Entry, EntryKind, Notice
from catalog.selectors import ENTRY_INTERSECTIONS, intersections_of
from common.pagination import paginate
from editorial.preview import render_preview, require_staff

from .metadata import article_metadata
from .models import Article


def article_list(request):
    # The listing index holds what a list line shows; no need to read bodies.
    articles = Entry.objects.published().filter(kind=EntryKind.ARTICLE).listing()
    return render(request, "articles/list.html", {"page": paginate(request, articles)})


def by_strength(studies):
    return sorted(studies, key=lambda study: strength(study.study_type))


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
        # "More on Vitamin K2 and Bone: 29": the intersections of its tags.
        "intersections": intersections_of(tags, limit=ENTRY_INTERSECTIONS),
        "metadata": article_metadata(request, article, tags),
        "canonical_path": article.get_absolute_url(),
        # What it draws on, strongest designs first, newest first among equals.
        "related_studies": (related := by_strength(article.related_studies.published().order_by("-year", "-month"))),
        "rollup": rollup(Counter(study.study_type for study in related)),
        # "1 retracted": what the roll-up flags (each is marked in the list too).
        "rollup_flags": rollup_flags(related),
    }


def rollup_flags(studies):
    """ "1 retracted, 1 under an expression of concern" for the studies an
    article draws on; "" when none is. A correction is not flagged here: the
    paper stands, corrected (its row still says so)."""
    retracted = sum(study.is_retracted for study in studies)
    concern = sum(study.notice == Notice.CONCERN for study in studies)
    parts = [
        f"{retracted} retracted" if retracted else "",
        f"{concern} under an expression of concern" if concern else "",
    ]
    return ", ".join(part for part in parts if part)


def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published().for_detail(), slug=slug)
    return render(request, "articles/detail.html", detail_context(request, article))


@never_cache
def article_preview(request, pk):
    """Staff only (404 for anyone else): the article page in any state."""
    require_staff(request, "articles.view_article")
    article = get_object_or_404(Article.objects.for_detail(), pk=pk)
    return render_preview(request, "preview/article.html", detail_context(request, article), article)
