from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Article


@admin.register(Article)
class ArticleAdmin(SimpleHistoryAdmin):
    list_display = ["title", "author", "status", "first_published_at"]
    list_filter = ["status"]
    search_fields = ["title", "lead"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["related_studies"]
