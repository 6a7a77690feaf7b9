"""What an import did, record by record: the report the command prints and
the admin previews."""

from collections import Counter
from dataclasses import dataclass, field

from .formats import FORMAT_NAMES

# Outcomes kept per record in the report beyond this many are only counted
# (a 100,000-record import needs the counts, not 100,000 lines).
MAX_LISTED_OUTCOMES = 5000
MAX_LISTED_FAILURES = 200


@dataclass(slots=True)
class RecordOutcome:
    number: int
    line: int
    outcome: str  # created, updated, unchanged, failed
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
    counts: Counter = field(default_factory=Counter)
    outcomes: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    new_tags: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def format_name(self):
        return FORMAT_NAMES.get(self.format, self.format)

    @property
    def records(self):
        return sum(self.counts[name] for name in ("created", "updated", "unchanged", "failed"))

    @property
    def rate(self):
        return self.records / self.seconds if self.seconds else 0.0

    def add(self, outcome):
        self.counts[outcome.outcome] += 1
        if outcome.outcome == "failed":
            if len(self.failures) < MAX_LISTED_FAILURES:
                self.failures.append(outcome)
        elif len(self.outcomes) < MAX_LISTED_OUTCOMES:
            self.outcomes.append(outcome)

    def fail(self, number, line, message, title=""):
        self.add(RecordOutcome(number, line, "failed", title=title, message=message))

    def refusal(self):
        shown = "; ".join(str(failure) for failure in self.failures[:3])
        more = self.counts["failed"] - min(3, len(self.failures))
        return f"Nothing was imported: {self.counts['failed']} of {self.records} records can't be read. {shown}" + (
            f"; and {more} more." if more > 0 else ""
        )
