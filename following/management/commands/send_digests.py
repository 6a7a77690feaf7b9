"""Send the daily and weekly digests that are due (following.digests).

Run it every few minutes from cron or a systemd timer:

    */5 * * * * cd /srv/k2site && .venv/bin/python manage.py send_digests

Idempotent (run twice, send once) and safe after a crash. Prints one line per
digest sent, naming the subscription by id, never its address. Exits
non-zero when a send failed (it is retried on the next run), so cron mails
the operator.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from following import digests
from following.mail import site_root


class Command(BaseCommand):
    help = "Send the daily and weekly digests that are due. Safe to run every few minutes."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="Act as if it were this time (ISO 8601, UTC unless an offset is given): for tests and catching up.",
        )

    def handle(self, *args, now=None, verbosity=1, **options):
        if now is not None:
            parsed = parse_datetime(now)
            if parsed is None:
                raise CommandError(f"--now: not a date and time: {now!r}")
            now = parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=datetime.UTC)
        try:
            root = site_root()
        except Exception as error:
            raise CommandError(str(error)) from error
        report = digests.run(now=now, root=root)
        for line in report.sent:
            self.stdout.write(line)
        if verbosity >= 1:
            self.stdout.write(
                f"{len(report.sent)} digest(s) sent; {report.claimed} new to send this run, "
                f"{report.nothing_new} subscription(s) with nothing new; {report.skipped} no longer had anything "
                f"to send; {report.abandoned} abandoned after a crash; "
                f"{report.forgotten} unconfirmed sign-up(s) forgotten."
            )
        if report.failed:
            stopped = " Stopped early: the mail server seems down." if report.stopped else ""
            raise CommandError(f"{report.failed} digest(s) could not be sent and will be retried.{stopped}")
