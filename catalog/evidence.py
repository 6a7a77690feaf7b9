"""How strong a design is, and how a set of studies reads in one line:
"2 meta-analyses, 3 RCTs, 1 review", strongest first. The study types are
the studies app's (registered with the catalog); their order of strength
and plural names live here with the other reading aids (timeline, roll-ups)."""

from collections import Counter

# Strongest first: syntheses, trials, observational designs, narrative
# reviews, then the rest.
STRENGTH = [
    "meta_analysis",
    "systematic_review",
    "rct",
    "cohort",
    "case_control",
    "cross_sectional",
    "review",
    "case_report",
    "animal",
    "in_vitro",
    "commentary",
    "book",
    "chapter",
    "other",
]
PLURALS = {
    "meta_analysis": ("meta-analysis", "meta-analyses"),
    "systematic_review": ("systematic review", "systematic reviews"),
    "rct": ("RCT", "RCTs"),
    "cohort": ("cohort/observational study", "cohort/observational studies"),
    "case_control": ("case-control study", "case-control studies"),
    "cross_sectional": ("cross-sectional study", "cross-sectional studies"),
    "review": ("review", "reviews"),
    "case_report": ("case report", "case reports"),
    "animal": ("animal study", "animal studies"),
    "in_vitro": ("in vitro study", "in vitro studies"),
    "commentary": ("commentary", "commentaries"),
    "book": ("book", "books"),
    "chapter": ("book chapter", "book chapters"),
    "other": ("other study", "other studies"),
    "": ("article", "articles"),
}


def strength(study_type):
    """Sort key: 0 for the strongest design; unknown types and articles last."""
    return STRENGTH.index(study_type) if study_type in STRENGTH else len(STRENGTH)


def rollup(counts, *, about=False):
    """{type value: count} → "2 meta-analyses, 3 RCTs, 1 review" (strongest
    first; "about" before estimates)."""
    counts = Counter({value: count for value, count in counts.items() if count})
    parts = []
    for value in sorted(counts, key=strength):
        singular, plural = PLURALS.get(value, (value, value))
        count = counts[value]
        parts.append(f"{'about ' if about else ''}{count:,} {singular if count == 1 else plural}")
    return ", ".join(parts)
