"""The catalog's models, one module per concern: publishing state, tags,
the listing index, the workflow log."""

from .listing import UNDATED, Entry, EntryKind, EntryQuerySet, EntryTag, Notice, TagPair, TagYearCount
from .publishing import Publishable, PublishableQuerySet, Status, is_published, published_q
from .tags import COUNT_FIELDS, Tag, TagAlias, TagQuerySet
from .transitions import ReviewQueueEntry, Transition, WorkflowAction

__all__ = [
    "COUNT_FIELDS",
    "UNDATED",
    "Entry",
    "EntryKind",
    "EntryQuerySet",
    "EntryTag",
    "Notice",
    "Publishable",
    "PublishableQuerySet",
    "ReviewQueueEntry",
    "Status",
    "Tag",
    "TagAlias",
    "TagPair",
    "TagQuerySet",
    "TagYearCount",
    "Transition",
    "WorkflowAction",
    "is_published",
    "published_q",
]
