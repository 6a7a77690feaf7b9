"""python manage.py import_studies PATH [--format …] [--tag NAME]... [--publish --user NAME] [--user NAME]
[--dry-run] [--skip-invalid]"""

import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from studies.importing import FORMATS, ImportRefused, can_publish, study_import


class Progress:
    """Records done, rate and time left, on one line of stderr (rewritten in
    place on a terminal, a line every few seconds otherwise)."""

    def __init__(self, stream, interval=None):
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.interval = interval if interval is not None else (0.25 if self.tty else 5.0)
        self.started = self.last = time.monotonic()
        self.shown = False

    def __call__(self, done, fraction, *, final=False):
        now = time.monotonic()
        # Short imports show no progress at all; long ones update every interval.
        if (final and not self.shown) or (not final and now - self.last < self.interval):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else 0
        line = f"{done:,} records · {rate:,.0f}/s · {fraction:.0%} of the file · about {_duration(left)} left"
        if self.tty:
            self.stream.write(f"\r\033[K{line}")
        else:
            self.stream.write(f"{line}\n")
        self.stream.flush()
        self.shown = True

    def finish(self):
        if self.shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds):
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Command(BaseCommand):
    help = (
        "Import studies from a RIS, BibTeX, CSL-JSON or PubMed MEDLINE (.nbib) file. Matches existing studies "
        "by DOI, then PMID, then title and year; a broken file is refused whole and nothing is written "
        "(--skip-invalid imports the records that can be read and lists the others)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to import.")
        parser.add_argument("--format", default="auto", choices=["auto", *FORMATS], help="Default: recognise it.")
        parser.add_argument(
            "--tag",
            action="append",
            default=[],
            metavar="NAME",
            help="Add this tag to every imported study (repeatable).",
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish now instead of importing drafts (needs --user, a moderator).",
        )
        parser.add_argument(
            "--user",
            metavar="NAME",
            help="Import as this user: the revisions and the workflow log name them; an editor's import never "
            "creates tags, and its changes to published studies wait for a moderator.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and match everything, write nothing.")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the records that can be read and list the others (by default one such record refuses "
            "the whole file).",
        )

    def handle(self, *args, path, format, tag, publish, dry_run, skip_invalid, user=None, **options):
        importer = None
        if user:
            importer = get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: user}).first()
            if importer is None or not importer.is_active:
                raise CommandError(f"There is no active user “{user}”.")
        if publish and not can_publish(importer):
            raise CommandError(
                "--publish needs --user NAME, a user who may moderate (Moderators group or superuser): "
                "publishing is a moderator's decision."
            )
        progress = Progress(self.stderr._out if hasattr(self.stderr, "_out") else sys.stderr)
        try:
            report = study_import(
                source=path,
                fmt=format,
                tags=tag,
                publish=publish,
                dry_run=dry_run,
                user=importer,
                progress=progress,
                skip_invalid=skip_invalid,
            )
        except ImportRefused as refused:
            progress.finish()
            report = refused.report
            if report is not None and report.records:
                # No outcome table: "created 86" above "Nothing was imported" would say the opposite.
                self.stderr.write(
                    f"{report.format_name} · {report.source_name} · {report.records:,} records read, "
                    f"{report.unreadable:,} can't be read:"
                )
                for failure in report.failures:
                    self.stderr.write(f"  {failure}")
                if report.unreadable > len(report.failures):
                    self.stderr.write(f"  … and {report.unreadable - len(report.failures):,} more.")
                if not skip_invalid and report.imported:
                    self.stderr.write(
                        f"To import the other {report.imported:,} records and skip these, use --skip-invalid."
                    )
            raise CommandError(refused.message) from None
        progress(report.records, 1.0, final=True)
        progress.finish()
        self._summary(report)
        if report.counts["skipped"]:
            self.stdout.write(f"Skipped {report.counts['skipped']:,} records that can't be read:")
            for failure in report.failures:
                self.stdout.write(f"  {failure}")
            if report.counts["skipped"] > len(report.failures):
                self.stdout.write(f"  … and {report.counts['skipped'] - len(report.failures):,} more.")
        if options["verbosity"] >= 2:
            for outcome in report.outcomes:
                detail = f" — {outcome.message}" if outcome.message else ""
                self.stdout.write(
                    f"  {outcome.number:>6} line {outcome.line:<7} {outcome.outcome:<9} {outcome.title[:70]}{detail}"
                )
        if report.new_tags:
            self.stdout.write(
                f"New tags: {', '.join(report.new_tags[:20])}" + (" …" if len(report.new_tags) > 20 else "")
            )
        if report.tags_left_out:
            left_out = report.tags_left_out
            self.stdout.write(
                f"Tags left out (only moderators create tags): {', '.join(left_out[:20])}"
                + (" …" if len(left_out) > 20 else "")
            )
        if report.proposed:
            self.stdout.write(f"{report.proposed:,} published studies: the changes wait for a moderator's approval.")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        else:
            state = "published" if publish else "drafts"
            self.stdout.write(
                self.style.SUCCESS(f"Imported {report.source_name} ({report.format_name}); new studies are {state}.")
            )

    def _summary(self, report):
        width = max(len(f"{report.records:,}"), 7)
        self.stdout.write(
            f"{report.format_name} · {report.source_name} · {report.seconds:.1f} s · {report.rate:,.0f} records/s"
        )
        self.stdout.write(f"  {'outcome':<10} {'records':>{width}}")
        last = "skipped" if report.skip_invalid else "failed"
        for name in ("created", "updated", "unchanged", last):
            self.stdout.write(f"  {name:<10} {report.counts[name]:>{width},}")
        self.stdout.write(f"  {'total':<10} {report.records:>{width},}")
