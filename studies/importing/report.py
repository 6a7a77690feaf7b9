"""What an import did, record by record: the report the command prints and
the admin previews."""

from collections import Counter
from dataclasses import dataclass, field

from .formats import FORMAT_NAMES

# Outcomes kept per record in the report beyond this many are only counted
# (a 100,000-record import needs the counts, not 100,000 lines).
MAX_LISTED_OUTCOMES = 5000
MAX_LISTED_FAILURES = 200
OUTCOMES = ("created", "updated", "unchanged", "failed", "skipped")


@dataclass(slots=True)
class RecordOutcome:
    number: int
    line: int
    outcome: str  # created, updated, unchanged, failed, skipped (failed, with skip_invalid)
    title: str = ""
    message: str = ""
    changes: tuple = ()
    study_id: int | None = None

    def __str__(self):
        return f"Record {self.number} (line {self.line}): {self.message}"


@dataclass
class ImportReport:
    source_name: str
    format: str
    dry_run: bool
    skip_invalid: bool = False
    counts: Counter = field(default_factory=Counter)
    outcomes: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    new_tags: list = field(default_factory=list)
    # Tags the file names that don't exist and that this user may not create
    # (only moderators create tags): left out.
    tags_left_out: list = field(default_factory=list)
    # Published studies whose changes wait for a moderator (editorial.revisions).
    proposed: int = 0
    seconds: float = 0.0

    @property
    def format_name(self):
        return FORMAT_NAMES.get(self.format, self.format)

    @property
    def records(self):
        return sum(self.counts[name] for name in OUTCOMES)

    @property
    def imported(self):
        """Records that were (or, in a dry run, would be) imported."""
        return sum(self.counts[name] for name in ("created", "updated", "unchanged"))

    @property
    def rate(self):
        return self.records / self.seconds if self.seconds else 0.0

    def add(self, outcome):
        self.counts[outcome.outcome] += 1
        if outcome.outcome in ("failed", "skipped"):
            if len(self.failures) < MAX_LISTED_FAILURES:
                self.failures.append(outcome)
        elif len(self.outcomes) < MAX_LISTED_OUTCOMES:
            self.outcomes.append(outcome)

    def fail(self, number, line, message, title=""):
        """A record that can't be imported: it refuses the file, or is skipped (skip_invalid)."""
        outcome = "skipped" if self.skip_invalid else "failed"
        self.add(RecordOutcome(number, line, outcome, title=title, message=message))

    @property
    def unreadable(self):
        return self.counts["failed"] + self.counts["skipped"]

    def refusal(self):
        shown = "; ".join(str(failure) for failure in self.failures[:3])
        more = self.unreadable - min(3, len(self.failures))
        if self.counts["skipped"]:
            lead = f"Nothing was imported: none of the {self.records} records can be read."
        else:
            lead = f"Nothing was imported: {self.unreadable} of {self.records} records can't be read."
        return f"{lead} {shown}" + (f"; and {more} more." if more > 0 else "")
