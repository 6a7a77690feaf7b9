"""Importing reference files as studies: ``formats`` parses them,
``reading`` reads and checks them (in a child process for big files),
``matching`` finds the studies records are, ``planning`` decides what changes,
``writing`` writes; ``importer.study_import`` runs them (the command
``import_studies`` and the admin's import page call it)."""

from .formats import FORMAT_NAMES, FORMATS, MAX_FILE_BYTES, ImportRefused
from .importer import can_publish, study_import
from .report import ImportReport, RecordOutcome

__all__ = [
    "FORMATS",
    "FORMAT_NAMES",
    "MAX_FILE_BYTES",
    "ImportRefused",
    "ImportReport",
    "RecordOutcome",
    "can_publish",
    "study_import",
]
