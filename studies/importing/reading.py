"""Reading and checking an import's file, batch by batch, in file order:
each record as a ``CleanRecord`` (with the tags it brings and its digest)
or a ``BrokenRecord`` saying what's wrong.

A big file on disk is read in a child process while the importing process
matches and writes the batches before it: both are Python, so a thread
could not overlap them (one core), a process does (measured in
bench/IMPORT_RESULTS.md). The child is forked: it starts in milliseconds
with the code already loaded, and touches nothing it inherits but that code
— it opens the file itself and never uses the parent's database connection
(it leaves with ``os._exit``, which closes nothing of the parent's). At most
one batch waits in the pipe and one in the child, so memory stays flat.
"""

import multiprocessing
import os
import signal
import traceback
from itertools import islice

from . import planning
from .formats import BrokenRecord, ImportRefused, RecordError, clean_record, open_records

BATCH_SIZE = 2000
# Smaller files are read in line: a few thousand records read in well under a
# second, less than what a process costs them (tests lower it to read small
# files in a child too).
CHILD_PROCESS_BYTES = 2 * 1024 * 1024


def checked(records, extra_tags):
    """``records`` as read, checked: a CleanRecord carrying ``tags`` (its
    keywords and the import's own, each once) and ``digest`` (what it
    brings: ``planning.record_digest``), or a BrokenRecord."""
    for item in records:
        if isinstance(item, BrokenRecord):
            yield item
            continue
        try:
            record = clean_record(item)
        except RecordError as error:
            yield BrokenRecord(item.number, item.line, str(error), title=str(item.data.get("title") or "")[:200])
            continue
        record.tags = planning.brought_tags(record, extra_tags)
        record.digest = planning.record_digest(record.fields, record.tags)
        yield record


def batched(iterable, size=BATCH_SIZE):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


class Batches:
    """The checked batches of a file opened with ``open_records``, with the
    fraction of the file read after each: ``for batch, fraction in Batches(…)``
    inside ``with``. A reading error (a file that turns out not to be its
    format, a line that isn't text…) is raised where the batch it is in would
    have come."""

    def __init__(self, source, source_file, fmt, records, extra_tags):
        self.source_file, self.records, self.extra_tags = source_file, records, extra_tags
        self.child = None
        if isinstance(source, (str, os.PathLike)) and source_file.size >= CHILD_PROCESS_BYTES:
            self.child = _ChildReader(os.fspath(source), fmt, extra_tags)

    def __enter__(self):
        if self.child:
            self.child.start()
        return self

    def __exit__(self, *exc_info):
        if self.child:
            self.child.stop()

    def __iter__(self):
        if self.child:
            yield from self.child
            return
        for batch in batched(checked(self.records, self.extra_tags)):
            yield batch, self.source_file.fraction_read


class _ChildReader:
    def __init__(self, path, fmt, extra_tags):
        context = multiprocessing.get_context("fork")
        self.receiver, sender = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_read_in_child, args=(path, fmt, extra_tags, sender), name="k2site-import-reader", daemon=True
        )
        self.sender = sender

    def start(self):
        self.process.start()
        self.sender.close()  # the child's end: the pipe reports EOF when the child's copy closes

    def stop(self):
        self.receiver.close()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def __iter__(self):
        while True:
            try:
                kind, value, fraction = self.receiver.recv()
            except EOFError:
                self.process.join(timeout=10)  # its exit code, for the message
                code = self.process.exitcode
                raise RuntimeError(f"The import's reading process ended unexpectedly ({code}).") from None
            if kind == "end":
                return
            if kind == "refused":
                raise ImportRefused(value)
            if kind == "error":
                raise RuntimeError(f"The import's reading process failed:\n{value}")
            yield value, fraction


def _read_in_child(path, fmt, extra_tags, sender):
    # The parent's signal handlers (gunicorn's, the runserver's) are not the
    # child's: terminate() must end it, and Ctrl-C is the parent's to handle.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        source_file, fmt, records = open_records(path, fmt)
        with source_file.file:
            for batch in batched(checked(records, extra_tags)):
                sender.send(("batch", batch, source_file.fraction_read))
        sender.send(("end", None, 1.0))
    except ImportRefused as refused:
        sender.send(("refused", refused.message, None))
    except BaseException:  # handed to the importing process, raised there
        sender.send(("error", traceback.format_exc(), None))
    finally:
        sender.close()
