"""The /studies/ filters: every state is a plain GET address to share.

An invalid value (an unknown type or category, a year that is not a number)
is left out of the filtering and explained next to its field; it never
fails the page.
"""

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Exists, F, OuterRef, Sum
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.filters import SORT_CHOICES, YEAR_BOUNDS
from catalog.models import EntryKind, EntryTag, Tag, TagYearCount

from .models import Study, StudyType, TaggedStudy

MAX_QUERY_LENGTH = 200


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class StudyFilterForm(forms.Form):
    def clean_tag(self):
        tags = self.cleaned_data.get("tag")
        limit = settings.MAX_TAGS_PER_LISTING
        if tags is not None and len(tags) > limit:
            raise forms.ValidationError(f"Choose at most {limit} categories at once.", code="too_many")
        return tags


class StudyFilter(django_filters.FilterSet):
    # The names, values and bounds a tag or intersection page accepts too.
    SORT_CHOICES = SORT_CHOICES
    # Undated studies come last in both date orders.
    ORDERINGS = {
        "newest": [F("year").desc(nulls_last=True), F("month").desc(nulls_last=True), F("id").desc()],
        "oldest": [F("year").asc(nulls_last=True), F("month").asc(nulls_last=True), F("id").asc()],
        "title": ["title", "id"],
    }

    q = django_filters.CharFilter(
        label="Words",
        method="filter_text",
        max_length=MAX_QUERY_LENGTH,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    type = django_filters.MultipleChoiceFilter(
        label="Study type",
        field_name="study_type",
        choices=StudyType.choices,
        widget=forms.CheckboxSelectMultiple,
        # A plain column: no join, no duplicates, so no DISTINCT (which would
        # sort every match at a million studies).
        distinct=False,
    )
    year_min = YearFilter(label="From year", field_name="year", lookup_expr="gte", **YEAR_BOUNDS)
    year_max = YearFilter(label="To year", field_name="year", lookup_expr="lte", **YEAR_BOUNDS)
    tag = django_filters.ModelMultipleChoiceFilter(
        label="Categories (all must match)",
        field_name="tags__slug",
        to_field_name="slug",
        conjoined=True,
        method="filter_tags",
        # A category no published study carries is unknown here too.
        queryset=Tag.objects.visible(),
        widget=forms.CheckboxSelectMultiple,
    )
    journal = django_filters.CharFilter(label="Journal", field_name="journal", lookup_expr="iexact", max_length=255)
    sort = django_filters.ChoiceFilter(label="Sort", choices=SORT_CHOICES, method="filter_sort", empty_label=None)

    class Meta:
        model = Study
        fields = []
        form = StudyFilterForm

    @property
    def too_many_tags(self):
        """More categories than a listing may name: the page answers 400."""
        return self.form.has_error("tag", "too_many")

    def filter_text(self, queryset, name, value):
        return queryset.matching(value) if value.strip() else queryset

    # The API's schema (api/): each ``tag`` value is a category's slug.
    @extend_schema_field(OpenApiTypes.STR)
    def filter_tags(self, queryset, name, tags):
        # One EXISTS per tag ("all of"): PostgreSQL walks the date-ordered
        # index and probes each tag's (study, tag) unique index, stopping when
        # the page is full, instead of joining and sorting every match of a
        # tag carried by half the studies (2.4 s → see bench/RESULTS.md).
        for tag in tags:
            queryset = queryset.filter(Exists(TaggedStudy.objects.filter(content_object=OuterRef("pk"), tag=tag)))
        return queryset

    def counted(self):
        """(known total or None, what to count for it) for the page's number
        of results, when the filters in force are one category, study types
        and years at most — counting the matching studies instead reads up to
        COUNT_CAP of them, a cost that grows with the site. Otherwise (None,
        None): the page counts its listing.

        A category whose entries all carry it themselves: exact, from the
        year × design counts kept at write time (one small query). One with
        subcategories (those counts include their entries; this listing
        matches a study's own tags): its postings of the studies carrying it
        themselves, counted up to the cap along the posting index."""
        if not self.form.is_valid():
            return None, None  # the listing leaves the invalid values out; count what it shows
        data = self.form.cleaned_data
        tags = data.get("tag") or []
        if len(tags) != 1 or (data.get("q") or "").strip() or data.get("journal"):
            return None, None
        tag = tags[0]
        if tag.direct_count != tag.entry_count:
            filters = {"types": data.get("type") or [], **{key: data.get(key) for key in ("year_min", "year_max")}}
            postings = EntryTag.objects.published_with_all([tag], direct=True, filters=filters)
            return None, postings.filter(entry__kind=EntryKind.STUDY).order_by()
        counts = TagYearCount.objects.filter(tag=tag).exclude(study_type="")  # "": articles
        if data.get("type"):
            counts = counts.filter(study_type__in=data["type"])
        if data.get("year_min") is not None:
            counts = counts.filter(year__gte=data["year_min"])
        if data.get("year_max") is not None:
            counts = counts.filter(year__lte=data["year_max"], year__gt=0)  # 0: undated
        return counts.aggregate(total=Sum("entry_count"))["total"] or 0, None

    def filter_sort(self, queryset, name, value):
        # Applied in filter_queryset so that a missing or invalid sort still orders.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*self.ORDERINGS[self.sort_key])

    @property
    def sort_key(self):
        value = self.form.cleaned_data.get("sort")  # absent when invalid
        return value if value in self.ORDERINGS else "newest"

    def applied(self):
        """(label, value, address without it) for each filter in force, for
        the "applied filters" line and its remove links."""
        data = self.form.cleaned_data
        applied = []
        params = self.data

        def without(name, value=None):
            query = params.copy()
            if value is None:
                query.pop(name, None)
            else:
                query.setlist(name, [v for v in query.getlist(name) if v != value])
            query.pop("page", None)
            return "?" + query.urlencode() if query else "?"

        if data.get("q"):
            applied.append(("Words", data["q"], without("q")))
        labels = dict(StudyType.choices)
        for value in data.get("type") or []:
            applied.append(("Type", labels[value], without("type", value)))
        if data.get("year_min") is not None:
            applied.append(("From", str(data["year_min"]), without("year_min")))
        if data.get("year_max") is not None:
            applied.append(("To", str(data["year_max"]), without("year_max")))
        for tag in data.get("tag") or []:
            applied.append(("Category", tag.name, without("tag", tag.slug)))
        if data.get("journal"):
            applied.append(("Journal", data["journal"], without("journal")))
        return applied
