"""The admin's "Broken links" page: the report of editorial.link_check for
editors and moderators, a page at a time (internal links only: checking
other sites is ``manage.py check_links --external``, too slow for a page).

Each page checks at most PAGE_ENTRIES entries and shows at most PAGE_ROWS
rows, then links to the next page by the position it stopped at, so a page
costs the same at 100 entries or 100,000.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from catalog import registry
from editorial import link_check

PAGE_ENTRIES = 5000
PAGE_ROWS = 100


def viewable_models(user):
    """The kinds of entry whose report ``user`` may read (their view permission)."""
    return [
        model for model in registry.models() if user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
    ]


def parse_start(value, models):
    """(kind, pk) from "study-123", or None for the beginning."""
    if not value:
        return None
    kind, _, pk = value.partition("-")
    if kind not in {registry.kind_of(model) for model in models} or not pk.isdigit():
        raise Http404("No such position in the report.")
    return kind, int(pk)


@require_GET
def link_report_view(request):
    """Wrapped in admin.site.admin_view (staff login) in k2site/urls.py."""
    models = viewable_models(request.user)
    if not models:
        raise PermissionDenied
    start = parse_start(request.GET.get("after", ""), models)
    page = link_check.report_page(models, start=start, max_entries=PAGE_ENTRIES, max_rows=PAGE_ROWS)
    next_url = ""
    if page.next_start is not None:
        next_url = f"{reverse('admin_link_report')}?after={page.next_start[0]}-{page.next_start[1]}"
    context = {
        **admin.site.each_context(request),
        "title": "Broken links",
        "rows": page.rows,
        "broken": sum(row.broken for row in page.rows),
        "entries_checked": page.entries_checked,
        "continued": start is not None,
        "next_url": next_url,
        "first_url": reverse("admin_link_report"),
        "kinds": [model._meta.verbose_name_plural for model in models],
    }
    return TemplateResponse(request, "admin/k2site/link_report.html", context)
