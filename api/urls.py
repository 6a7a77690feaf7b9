"""/api/v1/: the read-only JSON API (namespace "api")."""

from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView

from . import views

app_name = "api"

urlpatterns = [
    path("", views.Root.as_view(), name="root"),
    path("studies/", views.StudyList.as_view(), name="study-list"),
    path("studies/<str:slug>/", views.StudyDetail.as_view(), name="study-detail"),
    path("articles/", views.ArticleList.as_view(), name="article-list"),
    path("articles/<str:slug>/", views.ArticleDetail.as_view(), name="article-detail"),
    path("tags/", views.TagList.as_view(), name="tag-list"),
    path("tags/<str:slugs>/entries/", views.TagEntries.as_view(), name="tag-entries"),
    path("schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs/", views.docs, name="docs"),
]
