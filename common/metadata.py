"""Helpers for what a page head tells machines: schema.org JSON-LD and
OpenGraph. Each entry type builds its own metadata with them
(studies.metadata, articles.metadata) as (name, content) pairs and one JSON
document, so the template only prints them, escaped
(templates/includes/head_metadata.html).
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

DESCRIPTION_CHARS = 200

# The characters that could end a <script> element or start a comment in it,
# escaped as JSON allows (the same table as django.utils.html.json_script).
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def json_ld(data):
    """Safe to place inside <script type="application/ld+json">."""
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES))


def description_of(text):
    return Truncator(" ".join(strip_tags(text or "").split())).chars(DESCRIPTION_CHARS)


def opengraph(*, kind, title, description, url):
    return [
        ("og:type", kind),
        ("og:site_name", settings.SITE_NAME),
        ("og:title", title),
        ("og:description", description),
        ("og:url", url),
    ]
