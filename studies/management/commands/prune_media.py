"""python manage.py prune_media [--dry-run]

Brings stored PDFs in line with how the site keeps them (studies.pdf): a PDF
uploaded under its own, guessable name is renamed to an unguessable one, and
files no study points to any more (replaced or deleted before the site
deleted them itself) are removed. Safe to run again: then it changes nothing.
"""

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction

from studies.models import Study
from studies.pdf import PDF_DIRECTORY, is_unguessable, pdf_upload_path


def stored_files(storage, directory):
    """Every file below ``directory`` in ``storage`` (names relative to its root)."""
    if not storage.exists(directory):
        return
    folders, files = storage.listdir(directory)
    for name in files:
        yield f"{directory}/{name}"
    for folder in folders:
        yield from stored_files(storage, f"{directory}/{folder}")


class Command(BaseCommand):
    help = "Rename guessable PDF names to unguessable ones and delete PDFs no study uses."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")

    def handle(self, *args, dry_run, **options):
        renamed = 0
        for study in Study.objects.exclude(pdf="").only("pk", "pdf").iterator():
            old = study.pdf.name
            if is_unguessable(old):
                continue
            renamed += 1
            if dry_run or not default_storage.exists(old):
                continue
            with default_storage.open(old, "rb") as source:
                new = default_storage.save(pdf_upload_path(study, old), source)
            with transaction.atomic():
                # update(), not save(): no revision, no re-index for a storage detail.
                Study.objects.filter(pk=study.pk).update(pdf=new)
            default_storage.delete(old)
        used = set(Study.objects.exclude(pdf="").values_list("pdf", flat=True))
        orphans = [name for name in stored_files(default_storage, PDF_DIRECTORY) if name not in used]
        if not dry_run:
            for name in orphans:
                default_storage.delete(name)
        verb = "Would rename" if dry_run else "Renamed"
        self.stdout.write(
            f"{verb} {renamed} PDFs; {'would delete' if dry_run else 'deleted'} {len(orphans)} orphaned files."
        )
