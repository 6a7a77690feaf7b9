"""The site's addresses, composed from the apps' views. The /tags/ namespace
brings four apps together: the tag pages (catalog), their feeds
(discovery), their citation exports (studies) and following them by email
(following)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from articles import views as article_views
from catalog import views as catalog_views
from discovery import feeds
from discovery import views as discovery_views
from discovery.sitemaps import SITEMAPS
from editorial import preview
from editorial.admin.link_report import link_report_view
from following import views as following_views
from studies import views as study_views
from studies.admin_import import study_import_view

from . import views

handler500 = "k2site.views.server_error"

tag_patterns = (
    [
        path("", catalog_views.tag_index, name="index"),
        path("<str:slugs>/", catalog_views.tag_detail, name="detail"),
        path("<str:slugs>/feed/", feeds.TagFeed(), name="feed"),
        path("<str:slugs>/cite.<str:extension>", study_views.tag_cite, name="cite"),
        path("<str:slugs>/follow/", following_views.subscribe, name="follow"),
    ],
    "tags",
)

urlpatterns = [
    path("", catalog_views.home, name="home"),
    path("articles/", include("articles.urls")),
    path("studies/", include("studies.urls")),
    path("tags/", include(tag_patterns)),
    path("search/", discovery_views.search, name="search"),
    path("api/v1/", include("api.urls", namespace="api")),
    path("follow/", include("following.urls")),
    path("feed/", feeds.SiteFeed(), name="feed"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path("sitemap-<section>.xml", sitemap_views.sitemap, {"sitemaps": SITEMAPS}, name="sitemap-section"),
    path("robots.txt", views.robots_txt, name="robots"),
    # Before admin.site.urls, whose catch-all would answer this path first.
    path("admin/studies/study/import/", admin.site.admin_view(study_import_view), name="admin_study_import"),
    path("admin/broken-links/", admin.site.admin_view(link_report_view), name="admin_link_report"),
    path("admin/", admin.site.urls),
    # Staff-only previews of drafts (editorial.preview); 404 for everyone else.
    path("preview/studies/<int:pk>/", study_views.study_preview, name="preview-study"),
    path("preview/articles/<int:pk>/", article_views.article_preview, name="preview-article"),
    path("preview/markdown/", preview.markdown_preview, name="preview-markdown"),
    # No route serves MEDIA_ROOT: a study's PDF is served by studies:pdf,
    # which checks that the study is published (studies.pdf).
]

if settings.BENCH_HELLO:
    urlpatterns.append(path("bench/hello", views.hello, name="bench-hello"))
