"""``manage.py check_links``: the broken links report (editorial.link_check)
for cron or CI. One line per broken link; the exit status is 1 when there
is one, so a scheduler can alert. External links only with ``--external``."""

from django.core.management.base import BaseCommand, CommandError

from editorial import link_check


class Command(BaseCommand):
    help = (
        "List links in article bodies and study highlights (Markdown links and listing blocks) that lead to "
        "nothing public. Exit status 1 when one is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--external",
            action="store_true",
            help="Also check links to other sites (HEAD, then GET), which takes a while. Off by default.",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=link_check.EXTERNAL_TIMEOUT,
            help=f"Seconds an external site may take to answer (default {link_check.EXTERNAL_TIMEOUT}).",
        )
        parser.add_argument(
            "--max-external",
            type=int,
            default=link_check.EXTERNAL_CAP,
            help=f"Check at most this many distinct external addresses (default {link_check.EXTERNAL_CAP}).",
        )
        parser.add_argument("--batch-size", type=int, default=link_check.BATCH_SIZE, help="Entries read per query.")

    def handle(self, *args, external, timeout, max_external, batch_size, verbosity, **options):
        if timeout <= 0 or max_external < 0 or batch_size <= 0:
            raise CommandError("--timeout and --batch-size must be positive, --max-external not negative.")
        collector = link_check.ExternalLinks(cap=max_external) if external else None
        broken, entries = 0, set()
        rows = link_check.report_rows(batch_size=batch_size, external=collector)
        for row in self._with_external(rows, collector, timeout):
            if row.broken:
                broken += 1
                entries.add((row.kind, row.entry_id))
                self.stdout.write(str(row))
            elif verbosity >= 2:
                self.stdout.write(str(row))
        if collector is not None and collector.skipped and verbosity >= 1:
            self.stderr.write(
                f"{len(collector.skipped)} external address(es) not checked: over --max-external {max_external}."
            )
        if broken:
            raise CommandError(
                f"{broken} broken link(s) in {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}.", returncode=1
            )
        if verbosity >= 1:
            self.stdout.write("No broken links.")

    def _with_external(self, rows, collector, timeout):
        yield from rows
        if collector is not None:
            yield from collector.rows(timeout=timeout)
