"""Preview for staff: a draft (or any state) rendered with the templates and
context visitors get, at /preview/… addresses visitors cannot open (404, so
the address does not even confirm a draft exists). robots.txt disallows them
and responses say noindex, no-store.

Each kind's preview view lives with its public view (``studies.views``,
``articles.views``) and renders the same ``detail_context`` through
``render_preview``; tests/editorial/test_pdf_and_preview.py compares the pages.
"""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from catalog.blocks import render_body
from common.admin_urls import admin_url

MARKDOWN_PREVIEW_MAX_CHARS = 500_000


def require_staff(request, permission=None):
    """404 for anyone but active staff (holding ``permission``, if given)."""
    user = request.user
    if not (user.is_active and user.is_staff and (permission is None or user.has_perm(permission))):
        raise Http404("No such page.")


def private(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def render_preview(request, template, context, entry):
    """The public page's context plus the preview banner's."""
    context = {
        **context,
        "preview_of": entry,
        "preview_kind": entry._meta.model_name,
        "preview_admin_url": admin_url(entry),
    }
    return private(render(request, template, context))


@never_cache
@require_POST
def markdown_preview(request):
    """The sanitised HTML of posted Markdown (``text``), for the admin's
    live preview button (static/k2site/admin/markdown_preview.js)."""
    require_staff(request)
    text = request.POST.get("text", "")
    if len(text) > MARKDOWN_PREVIEW_MAX_CHARS:
        return HttpResponse("Too long to preview.", status=413, content_type="text/plain")
    # With its listing blocks, and their notes for staff (unknown categories…).
    body = render_body(text)
    html = render_to_string("includes/markdown_body.html", {"body": body, "preview_of": True}, request=request)
    return private(HttpResponse(html, content_type="text/html; charset=utf-8"))
