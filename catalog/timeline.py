"""The evidence timeline of a tag or intersection page: its studies by year,
stacked by design, strongest first. Server-rendered SVG (no JavaScript), with
the same numbers as a table for screen readers and for anyone who wants them.

This module turns counts into geometry; the template
(templates/includes/evidence_timeline.html) only draws it. Colours pass
WCAG's 3:1 for graphics against the page and the white separators, and each
design also has its own fill pattern, so colour is never the only cue.
"""

from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import mark_safe

# Designs grouped as readers weigh evidence, strongest first (the bottom of
# each bar). Types not named here are "Other studies".
GROUPS = [
    ("synthesis", "Meta-analyses and systematic reviews", ("meta_analysis", "systematic_review"), "#1f3a5f", "solid"),
    ("rct", "Randomised controlled trials", ("rct",), "#1f6f3f", "hatch"),
    ("observational", "Observational", ("cohort", "case_control", "cross_sectional"), "#8a4b08", "dots"),
    ("review", "Reviews", ("review",), "#6a3d9a", "lines"),
    ("other", "Other studies", (), "#4f5b56", "cross"),
]
GROUP_KEYS = [key for key, *_ in GROUPS]
WIDTH, HEIGHT = 400, 190
LEFT, BOTTOM, TOP = 34, 22, 8
MAX_YEARS = 40  # older years are folded into the first bar ("≤ 1985")


@dataclass
class Segment:
    group: str
    label: str
    count: int
    y: float
    height: float


@dataclass
class Bar:
    year: int
    label: str  # "2019", or "≤ 1985" for the folded bar
    total: int
    x: float
    width: float
    url: str
    segments: list = field(default_factory=list)
    counts: list = field(default_factory=list)  # per group, in GROUPS order (the table row)
    show_label: bool = False


@dataclass
class Timeline:
    bars: list
    groups: list  # (key, label, colour, pattern)
    ticks: list  # (value, y)
    total: int
    estimated: bool
    first_year: int
    last_year: int
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT

    # The bars and the table's rows are written here, not by template loops:
    # a few hundred elements with numbers in them cost the template engine
    # more (localising each number) than the rest of the page (bench/EVIDENCE.md).
    def bars_svg(self):
        parts = []
        label_y = self.height - 6
        for bar in self.bars:
            if bar.total:
                studies = "study" if bar.total == 1 else "studies"
                parts.append(
                    f'<a href="{escape(bar.url)}" tabindex="-1"><title>{bar.label}: {bar.total} {studies}</title>'
                )
                parts.extend(
                    f'<rect x="{bar.x}" y="{segment.y}" width="{bar.width}" height="{segment.height}" '
                    f'fill="url(#tl-{segment.group})" stroke="#ffffff" stroke-width="0.5" data-year="{bar.year}" '
                    f'data-group="{segment.group}" data-count="{segment.count}"/>'
                    for segment in bar.segments
                )
                parts.append("</a>")
            if bar.show_label:
                parts.append(f'<text x="{bar.x}" y="{label_y}" class="timeline__year">{bar.label}</text>')
        return mark_safe("".join(parts))

    def table_rows(self):
        return mark_safe(
            "\n".join(
                f'<tr><th scope="row"><a href="{escape(bar.url)}">{bar.label}</a></th>'
                + "".join(f"<td>{count}</td>" for count in bar.counts)
                + f"<td>{bar.total}</td></tr>"
                for bar in self.bars
                if bar.total
            )
        )

    @property
    def summary(self):
        busiest = max(self.bars, key=lambda bar: bar.total)
        about = "about " if self.estimated else ""
        return (
            f"{about}{self.total:,} studies from {self.first_year} to {self.last_year}; "
            f"the most in {busiest.label} ({about}{busiest.total:,})."
        )


def group_of(study_type):
    for key, _label, types, _colour, _pattern in GROUPS:
        if study_type in types:
            return key
    return "other"


def nice_ceiling(value):
    """1, 2, 5 × a power of ten, at or above ``value``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def build_timeline(years, *, url_for_year, estimated=False):
    """``years``: {year: {study type: count}} (listing_breakdown); returns
    None when there is nothing to draw. ``url_for_year(year)``: the listing
    narrowed to that year."""
    years = {year: counts for year, counts in years.items() if sum(counts.values())}
    if not years:
        return None
    first, last = min(years), max(years)
    folded = last - first + 1 > MAX_YEARS
    start = last - MAX_YEARS + 1 if folded else first
    by_year = {}
    for year, counts in years.items():
        slot = max(year, start)
        per_group = by_year.setdefault(slot, dict.fromkeys(GROUP_KEYS, 0))
        for study_type, count in counts.items():
            per_group[group_of(study_type)] += count
    span = list(range(start, last + 1))
    highest = nice_ceiling(max(sum(counts.values()) for counts in by_year.values()))
    plot_width, plot_height = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    slot_width = plot_width / len(span)
    bar_width = max(slot_width * 0.8, 1.5)
    label_every = next(step for step in (1, 2, 5, 10, 20) if len(span) / step <= 8)
    bars = []
    for index, year in enumerate(span):
        per_group = by_year.get(year, dict.fromkeys(GROUP_KEYS, 0))
        total = sum(per_group.values())
        label = f"≤ {year}" if folded and year == start else str(year)
        bar = Bar(
            year=year,
            label=label,
            total=total,
            x=round(LEFT + index * slot_width + (slot_width - bar_width) / 2, 2),
            width=round(bar_width, 2),
            url=url_for_year(year),
            counts=[per_group[key] for key, *_ in GROUPS],
            show_label=year % label_every == 0 or (index == 0 and len(span) < label_every),
        )
        bottom = HEIGHT - BOTTOM
        for key, group_label, _types, _colour, _pattern in GROUPS:
            count = per_group[key]
            if count:
                height = count / highest * plot_height
                bottom -= height
                bar.segments.append(Segment(key, group_label, count, round(bottom, 2), round(height, 2)))
        bars.append(bar)
    ticks = [(value, round(HEIGHT - BOTTOM - value / highest * plot_height, 2)) for value in (0, highest // 2, highest)]
    return Timeline(
        bars=bars,
        groups=[(key, label, colour, pattern) for key, label, _types, colour, pattern in GROUPS],
        ticks=ticks,
        total=sum(bar.total for bar in bars),
        estimated=estimated,
        first_year=first,
        last_year=last,
    )
