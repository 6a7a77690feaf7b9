"""The admin of following: staff with the view permission (Moderators,
editorial.roles) see how many follow each topic, never who; superusers
alone see the subscriptions themselves, addresses included (to answer a
request to delete one, say). Nothing here is edited by hand: subscriptions
change through their links, digests through ``send_digests``."""

import datetime

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from catalog.models import Tag

from .models import Delivery, DeliveryState, Subscription
from .topics import Topic

TOPICS_PER_PAGE = 100


def is_superuser(request):
    return request.user.is_active and request.user.is_superuser


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["email", "topic_path", "frequency", "confirmed_at", "last_sent_at", "created_at"]
    list_filter = ["frequency", ("confirmed_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "slugs"]
    fields = [
        "email",
        "slugs",
        "filters",
        "frequency",
        "created_at",
        "confirmation_sent_at",
        "confirmed_at",
        "cutoff",
        "next_due_at",
        "last_sent_at",
    ]
    readonly_fields = fields
    change_list_template = "admin/following/subscription/change_list.html"

    def has_view_permission(self, request, obj=None):
        # A subscription itself (its address): superusers only. The list is
        # the counts page for everyone else (changelist_view).
        if obj is not None:
            return is_superuser(request)
        return super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return is_superuser(request)

    def get_urls(self):
        topics = path("topics/", self.admin_site.admin_view(self.topics_view), name="following_subscription_topics")
        return [topics, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        if not is_superuser(request):
            return self.topics_view(request)
        return super().changelist_view(request, extra_context)

    def topics_view(self, request):
        """Followers per topic, most first: counts only."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        page = Paginator(Subscription.objects.topic_counts(), TOPICS_PER_PAGE).get_page(request.GET.get("p"))
        rows = list(page.object_list)
        slugs = {slug for row in rows for slug in row["slugs"].split("+")}
        tags = {tag.slug: tag for tag in Tag.objects.filter(slug__in=slugs).only("id", "name", "slug")}
        for row in rows:
            named = [tags.get(slug) or Tag(name=slug, slug=slug) for slug in row["slugs"].split("+")]
            row["topic"] = Topic.from_query(named, QueryDict(row["filters"]))
        since = timezone.now() - datetime.timedelta(days=7)
        states = dict(
            Delivery.objects.filter(created_at__gte=since).values_list("state").annotate(n=Count("id")).order_by()
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Followers per topic",
            "page": page,
            "rows": rows,
            "totals": Subscription.objects.aggregate(
                followers=Count("id", filter=Q(confirmed_at__isnull=False)),
                unconfirmed=Count("id", filter=Q(confirmed_at__isnull=True)),
            ),
            "deliveries": [(label, states.get(value, 0)) for value, label in DeliveryState.choices],
            "list_url": reverse("admin:following_subscription_changelist") if is_superuser(request) else None,
        }
        return TemplateResponse(request, "admin/following/topics.html", context)

    @admin.display(description="topic")
    def topic_path(self, subscription):
        return subscription.topic_path
