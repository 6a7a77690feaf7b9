"""Preview for staff: a draft (or any state) rendered with the templates and
context visitors get, at /preview/… addresses visitors cannot open (404, so
the address does not even confirm a draft exists). robots.txt disallows them
and responses say noindex, no-store.

The context is the public detail views' own (``detail_context``), plus the
banner's; tests/workflow/test_pdf_and_preview.py compares the two pages.
"""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from articles import views as articles_views
from articles.models import Article
from studies import views as studies_views
from studies.models import Study

from .markdown import render_markdown

MARKDOWN_PREVIEW_MAX_CHARS = 500_000


def _require_staff(request, permission):
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm(permission)):
        raise Http404("No such page.")


def _private(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _admin_change_url(entry):
    opts = entry._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[entry.pk])


@never_cache
def study_preview(request, pk):
    _require_staff(request, "studies.view_study")
    study = get_object_or_404(Study.objects.for_detail(), pk=pk)
    context = {
        **studies_views.detail_context(request, study),
        "preview_of": study,
        "preview_kind": "study",
        "preview_admin_url": _admin_change_url(study),
    }
    return _private(render(request, "preview/study.html", context))


@never_cache
def article_preview(request, pk):
    _require_staff(request, "articles.view_article")
    article = get_object_or_404(Article.objects.for_detail(), pk=pk)
    context = {
        **articles_views.detail_context(request, article),
        "preview_of": article,
        "preview_kind": "article",
        "preview_admin_url": _admin_change_url(article),
    }
    return _private(render(request, "preview/article.html", context))


@never_cache
@require_POST
def markdown_preview(request):
    """The sanitised HTML of posted Markdown (``text``), for the admin's
    live preview button (static/k2site/admin/markdown_preview.js)."""
    user = request.user
    if not (user.is_active and user.is_staff):
        raise Http404("No such page.")
    text = request.POST.get("text", "")
    if len(text) > MARKDOWN_PREVIEW_MAX_CHARS:
        return HttpResponse("Too long to preview.", status=413, content_type="text/plain")
    return _private(HttpResponse(render_markdown(text), content_type="text/html; charset=utf-8"))
