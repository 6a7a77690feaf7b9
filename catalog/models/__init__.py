"""The catalog's models, one module per concern: publishing state, tags,
the listing index, the workflow log."""

from .listing import UNDATED, Entry, EntryKind, EntryQuerySet, EntryTag, TagPair
from .publishing import Publishable, PublishableQuerySet, Status, is_published, published_q
from .tags import Tag, TagQuerySet
from .transitions import ReviewQueueEntry, Transition, WorkflowAction

__all__ = [
    "UNDATED",
    "Entry",
    "EntryKind",
    "EntryQuerySet",
    "EntryTag",
    "Publishable",
    "PublishableQuerySet",
    "ReviewQueueEntry",
    "Status",
    "Tag",
    "TagPair",
    "TagQuerySet",
    "Transition",
    "WorkflowAction",
    "is_published",
    "published_q",
]
