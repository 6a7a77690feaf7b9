"""The read-only JSON API: the pages' data through the pages' querysets, so
"published" stays defined once (catalog.models.publishing) and a draft never
shows. Anonymous GETs only; errors are JSON with a ``detail``."""

import datetime

from django.conf import settings
from django.shortcuts import get_object_or_404, redirect, render
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.reverse import reverse

from articles.models import Article
from catalog.models import Entry, EntryKind, Tag
from catalog.selectors import estimated_intersection, resolve_tags, round_estimate, tag_listing
from studies.filters import StudyFilter
from studies.models import Study

from .pagination import Key, KeysetPagination
from .serializers import (
    ArticleSerializer,
    ArticleSummarySerializer,
    EntrySerializer,
    StudySerializer,
    StudySummarySerializer,
    TagCountSerializer,
)

ERROR = inline_serializer("Error", {"detail": serializers.CharField()})
INVALID = inline_serializer(
    "InvalidParameters",
    {
        "detail": serializers.CharField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)
NOT_FOUND = OpenApiResponse(ERROR, description="No such published entry or category.")
BAD_REQUEST = OpenApiResponse(INVALID, description="A malformed parameter (named in `errors`).")
THROTTLED = OpenApiResponse(ERROR, description="Too many requests from this address (see `Retry-After`).")
COMMON_ERRORS = {429: THROTTLED}


class ApiView(GenericAPIView):
    """Anonymous, read-only, JSON."""

    http_method_names = ["get", "head", "options"]


class Root(ApiView):
    @extend_schema(
        summary="Links to every endpoint",
        responses={200: OpenApiTypes.OBJECT, **COMMON_ERRORS},
    )
    def get(self, request):
        def link(name, **kwargs):
            return reverse(f"api:{name}", kwargs=kwargs, request=request)

        return Response(
            {
                "studies": link("study-list"),
                "articles": link("article-list"),
                "tags": link("tag-list"),
                "tag_entries": link("tag-entries", slugs="SLUG+SLUG").replace("SLUG+SLUG", "{a}+{b}"),
                "schema": link("schema"),
                "docs": link("docs"),
            }
        )


# --- studies ----------------------------------------------------------------


class StudyList(ApiView):
    serializer_class = StudySummarySerializer
    # The /studies/ page's FilterSet: one definition of each filter. The page
    # leaves an invalid value out and explains it; the API answers 400 naming it.
    filter_backends = [DjangoFilterBackend]
    filterset_class = StudyFilter
    pagination_class = KeysetPagination

    def get_queryset(self):
        return Study.objects.published().for_detail()

    def ordering_keys(self):
        sort = self.request.query_params.get("sort") or "newest"
        if sort == "title":
            return [Key("title", str), Key("id")], sort
        descending = sort == "newest"
        keys = [
            Key("year", descending=descending, nullable=True),
            Key("month", descending=descending, nullable=True),
            Key("id", descending=descending),
        ]
        return keys, sort

    @extend_schema(
        summary="Published studies, filtered as on /studies/",
        responses={200: StudySummarySerializer(many=True), 400: BAD_REQUEST, **COMMON_ERRORS},
    )
    def get(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class StudyDetail(ApiView):
    serializer_class = StudySerializer

    @extend_schema(summary="One published study with every citation field", responses={404: NOT_FOUND})
    def get(self, request, slug):
        study = get_object_or_404(Study.objects.published().for_detail(), slug=slug)
        return Response(self.get_serializer(study).data)


# --- articles ---------------------------------------------------------------


class ArticleList(ApiView):
    serializer_class = ArticleSummarySerializer
    pagination_class = KeysetPagination

    def ordering_keys(self):
        return [Key("sort_date", datetime.date, descending=True), Key("id", descending=True)], "newest"

    @extend_schema(
        summary="Published articles, newest first (as on /articles/)",
        responses={200: ArticleSummarySerializer(many=True), 400: BAD_REQUEST, **COMMON_ERRORS},
    )
    def get(self, request):
        # The listing index decides which and in what order, as on the page.
        entries = (
            Entry.objects.published()
            .filter(kind=EntryKind.ARTICLE)
            .listing()
            .select_related("article__author")
            .prefetch_related("article__tags")
        )
        page = self.paginate_queryset(entries)
        articles = [entry.article for entry in page]
        return self.get_paginated_response(self.get_serializer(articles, many=True).data)


class ArticleDetail(ApiView):
    serializer_class = ArticleSerializer

    @extend_schema(summary="One published article: lead, body, cited studies, tags", responses={404: NOT_FOUND})
    def get(self, request, slug):
        article = get_object_or_404(Article.objects.published().for_detail(), slug=slug)
        cited = article.related_studies.published().for_detail().order_by("-year", "-month", "-id")
        context = {**self.get_serializer_context(), "cited_studies": list(cited)}
        return Response(ArticleSerializer(article, context=context).data)


# --- categories -------------------------------------------------------------


class TagList(ApiView):
    serializer_class = TagCountSerializer

    @extend_schema(
        summary="Every category a published entry carries, with its count (as on /tags/)",
        responses={
            200: inline_serializer("TagList", {"results": TagCountSerializer(many=True)}),
            **COMMON_ERRORS,
        },
    )
    def get(self, request):
        tags = Tag.objects.visible().order_by("name")
        return Response({"results": self.get_serializer(tags, many=True).data})


class TagEntries(ApiView):
    serializer_class = EntrySerializer
    pagination_class = KeysetPagination

    def ordering_keys(self):
        keys = [
            Key("sort_date", datetime.date, descending=True),
            Key("entry_id", descending=True, attribute="entry_id"),
        ]
        return keys, "newest"

    @extend_schema(
        summary="The entries in every one of the categories a+b+…, as on /tags/a+b/",
        description=(
            "The same entries in the same order as the category or intersection page. `total` is exact for "
            "one or two categories; for three or more it is the page's estimate (`total_estimated`), "
            "or exact when everything fits on the first page. A repeated category answers 301 to the address "
            "without it."
        ),
        parameters=[OpenApiParameter("slugs", OpenApiTypes.STR, OpenApiParameter.PATH, description="a+b+c")],
        responses={
            200: inline_serializer(
                "TagEntriesPage",
                {
                    "next": serializers.URLField(allow_null=True),
                    "total": serializers.IntegerField(allow_null=True),
                    "total_estimated": serializers.BooleanField(),
                    "tags": TagCountSerializer(many=True),
                    "results": EntrySerializer(many=True),
                },
            ),
            301: OpenApiResponse(description="A category named twice: the address without the repeat."),
            400: BAD_REQUEST,
            404: NOT_FOUND,
            **COMMON_ERRORS,
        },
    )
    def get(self, request, slugs):
        limit = settings.MAX_TAGS_PER_LISTING
        if len(set(slugs.split("+"))) > limit:
            raise ValidationError({"slugs": [f"Choose at most {limit} categories at once."]})
        tags, canonical = resolve_tags(slugs)
        if canonical is not None:
            response = redirect("api:tag-entries", slugs=canonical, permanent=True)
            if request.META.get("QUERY_STRING"):
                response["Location"] += "?" + request.META["QUERY_STRING"]
            return response
        postings, total = tag_listing(tags)
        # Three or more: estimated on every page (the page's queries, whatever the result).
        estimate = None if total is not None else round_estimate(estimated_intersection(tags))
        page = self.paginate_queryset(postings)
        paginator = self.paginator
        estimated = False
        if estimate is not None:
            if paginator.first_page and not paginator.has_next:
                total = len(page)
            else:
                total, estimated = max(estimate, len(page) + paginator.has_next), True
        entries = [posting.entry for posting in page]
        return paginator.get_paginated_response(
            self.get_serializer(entries, many=True).data,
            total=total,
            total_estimated=estimated,
            tags=TagCountSerializer(tags, many=True, context=self.get_serializer_context()).data,
        )


# --- documentation ------------------------------------------------------------


def docs(request):
    """The API's documentation, rendered on the server from the OpenAPI
    schema: no script or style of its own, so it works under the site's
    strict Content-Security-Policy (Swagger UI and Redoc need inline styles)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": operation.get("parameters", []),
                    "responses": sorted(operation.get("responses", {}).items()),
                }
            )
    return render(
        request,
        "api/docs.html",
        {"operations": operations, "info": schema["info"], "base": request.build_absolute_uri("/").rstrip("/")},
    )
