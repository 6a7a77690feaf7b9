from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from catalog.blocks import render_body
from catalog.filters import ListingFilterForm
from catalog.models import Entry, EntryKind, EntryTag, Tag
from catalog.selectors import ENTRY_INTERSECTIONS, intersections_of, resolve_tags
from common.pagination import paginate
from editorial.preview import render_preview, require_staff

from .cite import citation_response
from .filters import StudyFilter
from .metadata import study_metadata
from .models import Study
from .pdf import pdf_response

# Categories offered as checkboxes on /studies/ besides those applied.
FILTER_TAG_CHOICES = 20
# A listing export holds at most this many studies, newest first: enough for
# a reference manager, bounded for a category on hundreds of thousands.
LISTING_EXPORT_LIMIT = 1000


def study_list(request):
    study_filter = StudyFilter(request.GET, queryset=Study.objects.published())
    if study_filter.too_many_tags:
        return render(request, "400.html", {"exception": study_filter.form.errors["tag"][0]}, status=400)
    total, counted = study_filter.counted()
    page = paginate(request, study_filter.qs, total=total, count_from=counted)
    applied = study_filter.applied()
    applied_tags = study_filter.form.cleaned_data.get("tag") or []
    offered_tags = list(
        Tag.objects.visible().exclude(pk__in=[tag.pk for tag in applied_tags]).popular()[:FILTER_TAG_CHOICES]
    )
    return render(
        request,
        "studies/list.html",
        {
            "filter": study_filter,
            "form": study_filter.form,
            "page": page,
            "applied": applied,
            "applied_tags": applied_tags,
            "offered_tags": offered_tags,
            "selected_types": study_filter.form.cleaned_data.get("type") or [],
            "sort_key": study_filter.sort_key,
            # Number inputs show valid years only (an invalid one is explained).
            "year_min": study_filter.form.cleaned_data.get("year_min"),
            "year_max": study_filter.form.cleaned_data.get("year_max"),
        },
    )


def detail_context(request, study):
    """What the study page shows; the staff preview renders the same."""
    tags = list(study.tags.all())
    return {
        "study": study,
        "tags": tags,
        # The editor's highlights, with any listing blocks placed in them.
        "summary": render_body(study.summary, exclude=study, section_level=2),
        "related": list(Entry.objects.related_to(study, tags)),
        # "More on Vitamin K2 and Bone: 29": the intersections of its tags.
        "intersections": intersections_of(tags, limit=ENTRY_INTERSECTIONS),
        "metadata": study_metadata(request, study, tags),
        "canonical_path": study.get_absolute_url(),
    }


def study_detail(request, slug):
    study = get_object_or_404(Study.objects.published().for_detail(), slug=slug)
    return render(request, "studies/detail.html", detail_context(request, study))


def study_pdf(request, slug):
    """The study's PDF: a published study's for everyone, any study's for
    staff who may view studies; 404 otherwise (a draft's PDF does not exist
    for visitors, whatever they guess)."""
    staff = request.user.is_active and request.user.is_staff and request.user.has_perm("studies.view_study")
    studies = Study.objects.all() if staff else Study.objects.published()
    study = get_object_or_404(studies.only("pk", "slug", "pdf", "status", "publish_at", "expire_at"), slug=slug)
    if not study.pdf:
        raise Http404("No PDF.")
    return pdf_response(study, shared=study.is_published)


@never_cache
def study_preview(request, pk):
    """Staff only (404 for anyone else): the study page in any state."""
    require_staff(request, "studies.view_study")
    study = get_object_or_404(Study.objects.for_detail(), pk=pk)
    return render_preview(request, "preview/study.html", detail_context(request, study), study)


def study_cite(request, slug, extension):
    study = get_object_or_404(Study.objects.published().for_detail(), slug=slug)
    return citation_response([study], filename=study.slug, extension=extension)


def tag_cite(request, slugs, extension):
    """Every study on a tag or intersection page, with the page's filters
    (newest first, up to LISTING_EXPORT_LIMIT) in one citation file."""
    tags, canonical = resolve_tags(slugs)
    if canonical is not None:
        url = reverse("tags:cite", kwargs={"slugs": canonical, "extension": extension})
        query = request.META.get("QUERY_STRING")
        return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)
    filters = ListingFilterForm(request.GET).values
    study_ids = list(
        EntryTag.objects.published_with_all(tags, direct=request.GET.get("direct") == "1", filters=filters)
        .filter(entry__kind=EntryKind.STUDY)
        .values_list("entry__study_id", flat=True)[:LISTING_EXPORT_LIMIT]
    )
    by_id = Study.objects.published().for_detail().in_bulk(study_ids)
    studies = [by_id[pk] for pk in study_ids if pk in by_id]
    return citation_response(studies, filename="k2site-" + "+".join(tag.slug for tag in tags), extension=extension)
