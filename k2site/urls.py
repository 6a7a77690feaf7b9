from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path
from django.views.static import serve

from . import views
from .sitemaps import SITEMAPS

tag_patterns = (
    [
        path("", views.tag_index, name="index"),
        path("<str:slugs>/", views.tag_detail, name="detail"),
    ],
    "tags",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/", include("articles.urls")),
    path("studies/", include("studies.urls")),
    path("tags/", include(tag_patterns)),
    path("healthz", views.healthz, name="healthz"),
    path("sitemap.xml", sitemap_views.index, {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"}, name="sitemap"),
    path(
        "sitemap-<section>.xml",
        sitemap_views.sitemap,
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
    path("admin/", admin.site.urls),
    # Uploaded PDFs. In production a web server or object storage serves
    # MEDIA_ROOT; Django serves it here so `make run` works on its own.
    path(f"{settings.MEDIA_URL.lstrip('/')}<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
]
