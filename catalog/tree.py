"""The category tree: each tag has at most one parent, at any depth.

A parent's pages include its descendants' entries. Rather than a union of
many tags at read time, ``catalog.indexing`` writes each entry a posting for
every ancestor of its tags, marked ``inherited``: a parent × tag intersection
stays one walk of postings with a fixed query count, and its counts come from
the same precomputed tables as any tag's. The tree itself is small (one row
per tag), so it is read whole, in one query, where it is needed.
"""

from django.core.exceptions import ValidationError

from .models import Tag


def parent_map():
    """{tag id: parent id} for every tag that has a parent (one query)."""
    return dict(Tag.objects.filter(parent__isnull=False).values_list("id", "parent_id"))


def ancestor_ids(tag_id, parents):
    """The ancestors of ``tag_id``, nearest first (stops at a cycle, which
    ``check_parent`` refuses before it can be saved)."""
    chain, seen = [], {tag_id}
    parent = parents.get(tag_id)
    while parent is not None and parent not in seen:
        chain.append(parent)
        seen.add(parent)
        parent = parents.get(parent)
    return chain


def postings_for(direct_ids, parents):
    """{tag id: inherited} for an entry carrying ``direct_ids``: its own tags
    (inherited False) and each of their ancestors it does not carry itself."""
    postings = dict.fromkeys(direct_ids, False)
    for tag_id in direct_ids:
        for ancestor in ancestor_ids(tag_id, parents):
            postings.setdefault(ancestor, True)
    return postings


def check_parent(tag, parent):
    """Refuse a parent that would make a cycle (the tag itself or one of its
    descendants), with a message a moderator can act on."""
    if parent is None or tag.pk is None:
        return
    if parent.pk == tag.pk:
        raise ValidationError({"parent": "A category cannot be its own parent."})
    parents = parent_map()
    parents.pop(tag.pk, None)
    if tag.pk in ancestor_ids(parent.pk, parents):
        raise ValidationError(
            {"parent": f"“{parent.name}” is inside “{tag.name}”: choosing it as the parent would make a loop."}
        )


def ancestors(tag, parents=None):
    """The tag's ancestors as Tag rows, root first (one query, two without
    ``parents`` from ``parent_map``)."""
    ids = ancestor_ids(tag.pk, parent_map() if parents is None else parents)
    by_id = Tag.objects.in_bulk(ids)
    return [by_id[tag_id] for tag_id in reversed(ids) if tag_id in by_id]


def build_forest(tags):
    """Nest ``tags`` (rows with parent_id) as [(tag, [(child, […]), …]), …]
    sorted by name; a tag whose parent is not among them is a root."""
    by_parent = {}
    ids = {tag.pk for tag in tags}
    for tag in tags:
        key = tag.parent_id if tag.parent_id in ids else None
        by_parent.setdefault(key, []).append(tag)

    def branch(key, seen):
        return [
            (tag, branch(tag.pk, seen | {tag.pk}))
            for tag in sorted(by_parent.get(key, []), key=lambda t: t.name.lower())
            if tag.pk not in seen
        ]

    return branch(None, frozenset())
