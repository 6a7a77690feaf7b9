from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Study


@admin.register(Study)
class StudyAdmin(SimpleHistoryAdmin):
    list_display = ["title", "study_type", "journal", "year", "status"]
    list_filter = ["status", "study_type", "year"]
    search_fields = ["title", "paper_title", "doi", "pmid", "journal"]
    prepopulated_fields = {"slug": ["title"]}
