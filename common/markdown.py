"""Markdown for editors, safe HTML for visitors.

Python-Markdown renders (with anchors on headings for the table of contents),
then nh3 (the Rust ammonia sanitiser) keeps only the tags and attributes an
article needs: no script, no event handlers, no javascript: links.
"""

import markdown as markdown_lib
import nh3
from django.utils.safestring import mark_safe

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p",
    "pre", "q", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "*": {"id"},
}


def render_markdown(text, *, with_toc=False):
    """Sanitised HTML for ``text``; with ``with_toc`` also the list of its
    ``##`` headings as (id, title) pairs for a table of contents."""
    renderer = markdown_lib.Markdown(
        extensions=["extra", "sane_lists", "toc"],
        extension_configs={"toc": {"toc_depth": "2-3", "permalink": False}},
        output_format="html",
    )
    html = nh3.clean(
        renderer.convert(text or ""),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    if not with_toc:
        return mark_safe(html)
    toc = [(token["id"], token["name"]) for token in renderer.toc_tokens]
    return mark_safe(html), toc
