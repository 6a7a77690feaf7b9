from django.db.models import F
from django.shortcuts import get_object_or_404, render

from k2site.markdown import render_markdown
from k2site.pagination import paginate

from .models import Study


def study_list(request):
    studies = Study.objects.published().order_by(
        F("year").desc(nulls_last=True), F("month").desc(nulls_last=True), "-id"
    )
    return render(request, "studies/list.html", {"page": paginate(request, studies)})


def study_detail(request, slug):
    study = get_object_or_404(Study.objects.published().for_detail(), slug=slug)
    return render(
        request,
        "studies/detail.html",
        {"study": study, "tags": list(study.tags.all()), "summary_html": render_markdown(study.summary)},
    )
