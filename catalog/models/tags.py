"""The one vocabulary articles and studies share; visitors call a tag a category."""

from django.db import models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.urls import reverse
from taggit.models import TagBase

from catalog import registry

# Kept by catalog.indexing only.
COUNT_FIELDS = ("entry_count", "direct_count")


class TagQuerySet(models.QuerySet):
    def visible(self):
        """Tags some published entry carries (the precomputed count)."""
        return self.filter(entry_count__gt=0)

    def popular(self):
        """Most entries first, then by name."""
        return self.order_by("-entry_count", "name")

    def with_usage(self):
        """Annotated ``in_use``: some article or study, in any state, carries it."""
        carried = [Exists(through.objects.filter(tag=OuterRef("pk"))) for through in registry.through_models()]
        if not carried:
            return self.annotate(in_use=models.Value(False))
        condition = carried[0]
        for other in carried[1:]:
            condition |= other
        return self.annotate(in_use=condition)

    def in_use(self):
        return self.with_usage().filter(in_use=True)


class Tag(TagBase):
    """One shared vocabulary for articles and studies; visitors call it a category."""

    description = models.TextField(blank=True, help_text="Shown at the top of the tag's page (Markdown).")
    # The category tree: one parent, any depth, no cycles (catalog.tree). A
    # parent's pages include its descendants' entries.
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The broader category this one belongs to; its pages then include this one's entries.",
    )
    # Published entries carrying the tag or one of its descendants, and those
    # carrying the tag itself; kept by catalog.indexing: counting a popular
    # tag's postings live costs hundreds of milliseconds at scale.
    entry_count = models.PositiveIntegerField(default=0, editable=False)
    direct_count = models.PositiveIntegerField(default=0, editable=False)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "tag"
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci")]

    def get_absolute_url(self):
        return reverse("tags:detail", kwargs={"slugs": self.slug})

    def save(self, *args, **kwargs):
        # The counts belong to catalog.indexing (bulk updates); saving a
        # tag read before entries changed must not write its stale count back.
        if self.pk is not None and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in COUNT_FIELDS
            ]
        return super().save(*args, **kwargs)


class TagAlias(models.Model):
    """Another name and address of a tag: a synonym a moderator adds ("K2",
    "menaquinone") or the old slug of a renamed or merged tag. Its address
    redirects to the tag's; search and the admin autocomplete find the tag by
    it. Unique against every tag's and alias's name and slug, whatever the
    capitals (catalog.aliases checks the tags' side)."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "tag aliases"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="tagalias_name_unique_ci"),
            models.UniqueConstraint(Lower("slug"), name="tagalias_slug_unique_ci"),
        ]

    def __str__(self):
        return f"{self.name} → {self.tag}"

    def get_absolute_url(self):
        return self.tag.get_absolute_url()
