"""{% entry_row entry same_kind hide_lead %}: the inside of one listing row.

The title (with a retraction, correction or concern marker after it); then,
for a study, its design badge and "Mandatori D et al. · Nutrients · Apr 2021";
for an article, its lead. ``entry``: an Entry row, a Study or a search
result (same attributes); ``same_kind``: every row of the listing is of one
kind, so the kind marker is left out; ``hide_lead``: a search result shows
its snippet instead.

Written in Python rather than as an included template: a listing page shows
50 of these, and the template engine's per-variable work (lookups,
localisation, autoescape) was most of the page's Python time (issue 16,
bench/RESULTS.md). The markup is the same; every value is escaped unless
already safe (a search result's highlighted title).
"""

from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


def esc(value):
    """Django's conditional_escape without its lazy-string wrapper (the
    values here are never lazy): safe strings as they are, the rest escaped."""
    return value if hasattr(value, "__html__") else escape(str(value))


@register.simple_tag
def entry_row(entry, same_kind=False, hide_lead=False):
    parts = [f'<a class="entry-title" href="{esc(entry.get_absolute_url())}">{esc(entry.title)}</a>']
    if entry.notice:
        parts.append(
            f' <strong class="notice-marker notice-marker--{esc(entry.notice)}">{esc(entry.notice_label)}</strong>'
        )
    parts.append("\n")
    type_label, byline, venue = entry.type_label, entry.listing_byline, entry.listing_venue
    date_label = entry.date_label
    if not same_kind or type_label or byline or venue or date_label:
        parts.append('<p class="entry-meta">')
        if not same_kind:
            parts.append(f'<span class="kind kind--{esc(entry.kind)}">{esc(entry.kind_name)}</span> ')
        if type_label:
            parts.append(f'<span class="design">{esc(type_label)}</span> ')
        if byline:
            parts.append(f'<span class="entry-byline">{esc(byline)}</span>')
        if venue:
            parts.append(f'{" · " if byline else ""}<cite class="venue">{esc(venue)}</cite>')
        if date_label:
            separator = " · " if byline or venue else ""
            parts.append(f'{separator}<time datetime="{esc(entry.datetime_attr)}">{esc(date_label)}</time>')
        parts.append("</p>")
    parts.append("\n")
    lead = entry.listing_lead
    if lead and not hide_lead:
        parts.append(f'<p class="entry-lead">{esc(lead)}</p>\n')
    return mark_safe("".join(parts))
