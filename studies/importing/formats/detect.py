"""Recognise a reference file's format by its content, not its name."""

import re

from . import ris
from .medline import parse_tag_line

ENTRY_START = re.compile(r"^\s*@\s*[a-zA-Z]+\s*[{(]")


def detect_format(head):
    """'ris', 'bibtex', 'csljson', 'medline' or None, from the file's first kilobytes."""
    text = head.lstrip("\ufeff \t\r\n")
    if text[:1] in ("[", "{"):
        return "csljson"
    for line in text.splitlines()[:200]:
        if not line.strip():
            continue
        if ris.TAG_LINE.match(line):
            return "ris" if line.startswith("TY") else None
        tag = parse_tag_line(line)
        if tag:
            return "medline" if tag[0] == "PMID" else None
        if ENTRY_START.match(line):
            return "bibtex"
        # BibTeX allows free text (comments) before the first entry; other formats don't.
    return None
