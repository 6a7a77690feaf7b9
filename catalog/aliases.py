"""Tag aliases: synonyms moderators add, and the old addresses of renamed
and merged tags. An alias's address answers 301 to its tag's; a chain of
renames and merges always points at the tag that exists now, because a
merge moves the merged tags' aliases to the tag they joined."""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import slugify

from .models import Tag, TagAlias


def clash(name, slug, *, tag=None, alias=None):
    """What a name or slug would collide with (a Tag or TagAlias), whatever
    the capitals: names and slugs share one namespace across tags and
    aliases, so an address or a search term means one tag only. ``tag`` and
    ``alias``: the rows being edited, which may keep their own values."""
    values = [value for value in (name, slug) if value]
    if not values:
        return None
    condition = Q()
    for value in values:
        condition |= Q(name__iexact=value) | Q(slug__iexact=value)
    tags = Tag.objects.filter(condition)
    if tag is not None and tag.pk is not None:
        tags = tags.exclude(pk=tag.pk)
    found = tags.first()
    if found is not None:
        return found
    aliases = TagAlias.objects.filter(condition).select_related("tag")
    if alias is not None and alias.pk is not None:
        aliases = aliases.exclude(pk=alias.pk)
    return aliases.first()


def check_free(name, slug, *, tag=None, alias=None):
    found = clash(name, slug, tag=tag, alias=alias)
    if isinstance(found, TagAlias):
        raise ValidationError(f"“{found.name}” is already another name of the tag “{found.tag.name}”.")
    if found is not None:
        raise ValidationError(f"There is already a tag “{found.name}” (address /tags/{found.slug}/).")


def keep_old_address(tag, old_name, old_slug):
    """After ``tag`` was renamed or another tag merged into it: its old name
    and slug become an alias of ``tag``, unless something now uses them. An
    alias ``tag`` has taken back as its own name or slug is dropped."""
    TagAlias.objects.filter(tag=tag).filter(Q(slug__iexact=tag.slug) | Q(name__iexact=tag.name)).delete()
    if old_slug.lower() == tag.slug.lower() or clash(old_name, old_slug, tag=tag) is not None:
        return None
    return TagAlias.objects.create(tag=tag, name=old_name, slug=old_slug)


def alias_slug(name):
    return slugify(name, allow_unicode=True)


def tags_by_alias(slugs):
    """{slug: Tag} for the ``slugs`` that are aliases (one query)."""
    aliases = TagAlias.objects.filter(slug__in=slugs).select_related("tag")
    return {alias.slug: alias.tag for alias in aliases}
