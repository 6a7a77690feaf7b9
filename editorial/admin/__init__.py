"""The admin, split by concern: entries (the article and study admins' base),
tags, the moderation queue and log; Django's autodiscovery imports this."""

from . import queue, tags  # noqa: F401  (register their admins)
