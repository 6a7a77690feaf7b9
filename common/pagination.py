"""Paging without an exact COUNT(*) over big result sets.

A page fetches one row more than it shows to know whether an older page
exists. The total comes from a precomputed count when there is one, else
from a count capped at ``COUNT_CAP`` rows ("1,000+"): counting a popular
intersection exactly costs more than the page itself (shared/PERFORMANCE.md).
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.http import Http404

COUNT_CAP = 1000
# Deeper pages are 404 without a query: an offset past this fits every
# database's integer types (a page number of 20 digits overflowed them).
MAX_PAGE_NUMBER = 100_000


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    has_next: bool
    total: int | None = None
    total_capped: bool = False
    # An estimate from precomputed counts ("About 41,000"), not a count.
    total_estimated: bool = False
    query: dict = field(default_factory=dict)

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def has_other_pages(self):
        return self.has_next or self.has_previous

    @property
    def next_page_number(self):
        return self.number + 1

    @property
    def previous_page_number(self):
        return self.number - 1

    @property
    def start_index(self):
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def num_pages(self):
        if self.total is None or self.total_capped or self.total_estimated:
            return None
        return max(1, -(-self.total // self.per_page))


def page_number(request):
    """The ``page`` parameter; a malformed one is ignored (page 1), one past
    MAX_PAGE_NUMBER is a 404."""
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    if number > MAX_PAGE_NUMBER:
        raise Http404("No such page.")
    return number if number >= 1 else 1


def paginate(request, queryset, *, total=None, per_page=None, count=True, count_from=None):
    """One page of ``queryset``. ``total``: a known count; otherwise a capped
    count when ``count`` is true (of ``count_from`` when given: a queryset
    with as many rows, cheaper to count). Without either, the total is known
    for free on the last page only. A page past the end is a 404."""
    per_page = per_page or settings.LISTING_PAGE_SIZE
    number = page_number(request)
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    if number > 1 and not rows:
        raise Http404("No such page.")
    capped = False
    if total is None and count:
        total = (queryset if count_from is None else count_from)[: COUNT_CAP + 1].count()
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
    elif total is None and len(rows) <= per_page:
        total = offset + len(rows)
    return Page(
        items=rows[:per_page],
        number=number,
        per_page=per_page,
        has_next=len(rows) > per_page,
        total=total,
        total_capped=capped,
    )
