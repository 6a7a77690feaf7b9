"""The broken links report: internal links in article bodies and study
highlights that lead to nothing public, and optionally external links that
do not answer.

What counts as an internal link: a Markdown link, image, reference or
autolink, or an HTML ``href``/``src``, whose address is a path or a full
address on this site's host (``settings.SITE_URL``), and the listing blocks
(catalog.blocks): the categories of a ``[[list a+b]]`` and the addresses in
``[[picks]]``. It is broken when it names a study or article that does not
exist or is not published, a category that does not exist or that no
published entry carries, a path no view answers, or a staff-only page. An
alias of a visible category is not broken: its address redirects (a note).

Three steps, each a plain function: ``extract_links`` reads one text (no
database); ``check_batch`` looks up everything a batch of entries names in
a fixed number of queries (one per kind of entry named, one for the
categories, one for aliases) and returns its rows; ``report_page`` and
``report_rows`` walk every entry in primary key order, a batch at a time, so
the cost grows with the number of entries and never per link. External
links: ``ExternalLinks`` (``manage.py check_links --external`` only).
"""

import contextlib
import html
import re
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Q
from django.urls import Resolver404, resolve
from django.utils import timezone

from catalog import registry
from catalog.aliases import tags_by_alias
from catalog.blocks import LIST_LINE, MAX_BLOCKS, PICKS_END, PICKS_START, parse_address, parse_list
from catalog.models import Status, Tag, is_published
from common.admin_urls import admin_url

BATCH_SIZE = 500
# The entry texts that are Markdown with listing blocks (the admin's
# BLOCK_FIELDS): an article's body, a study's highlights.
TEXT_FIELDS = ("body", "summary")
SECTION_KIND = {"studies": "study", "articles": "article"}
ENTRY_VIEWS = {"studies:detail", "studies:cite", "studies:pdf", "articles:detail"}
TAG_VIEWS = {"tags:detail", "tags:feed", "tags:cite"}
# Pages visitors cannot open (a login, or a 404 by design).
STAFF_ONLY_ROUTES = ("admin/", "preview/")

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# "](destination": inline links and images, nested ones too ([![a](img)](url)).
INLINE_LINK = re.compile(r"\]\(\s*(?:<([^<>\n]*)>|((?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))+))")
# "[label]: destination", but not a footnote ("[^1]: text").
REFERENCE = re.compile(r"^\s{0,3}\[(?!\^)[^\]]+\]:\s*(?:<([^<>\n]*)>|(\S+))")
AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>\s]+)>", re.IGNORECASE)
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.IGNORECASE)
ESCAPE = re.compile(r"\\(.)")

EXTERNAL_TIMEOUT = 5
EXTERNAL_CAP = 200
EXTERNAL_WORKERS = 8
USER_AGENT = "K2Site-link-check/1.0 (+manage.py check_links)"


# --- reading a text ----------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One link in a text: ``line`` (1-based, in the field's text), the link
    as ``written``, and what it names: a ``url``, the ``tags`` of a list
    block, the ``entry`` (kind, slug) of a pick, or a ``problem`` the text
    alone shows."""

    line: int
    written: str
    url: str = ""
    tags: tuple = ()
    entry: tuple | None = None
    problem: str = ""


def extract_links(text):
    """The links in an entry's Markdown, in order, with their line numbers.

    Blocks are read as catalog.blocks reads them (before the Markdown, code
    fences or not); links inside code are not links."""
    links = []
    in_picks = False
    in_fence = None
    blocks = 0
    for number, line in enumerate((text or "").splitlines(), start=1):
        stripped = line.strip()
        if in_picks:
            if PICKS_END.match(stripped):
                in_picks = False
            elif stripped:
                address = parse_address(stripped)
                if address:
                    links.append(Link(number, stripped, entry=address))
                else:
                    links.append(Link(number, stripped, problem="not the address of an article or study"))
            continue
        if blocks < MAX_BLOCKS:
            if match := LIST_LINE.match(stripped):
                block = parse_list(match["spec"])
                if block is not None:
                    blocks += 1
                    links.append(Link(number, stripped, tags=tuple(block.slugs)))
                    continue
            if PICKS_START.match(stripped):
                blocks += 1
                in_picks = True
                continue
        if fence := FENCE.match(line):
            marker = fence[1]
            if in_fence is None:
                in_fence = marker
            elif marker[0] == in_fence[0] and len(marker) >= len(in_fence):
                in_fence = None
            continue
        if in_fence is None:
            links += [Link(number, url, url=url) for url in _urls_in(line)]
    return links


def _urls_in(line):
    found = []  # (position, url)
    if match := REFERENCE.match(line):
        found.append((match.start(), ESCAPE.sub(r"\1", match[1] if match[1] is not None else match[2])))
    # Code spans are blanked out (same length, so positions keep their order).
    text = CODE_SPAN.sub(lambda span: " " * len(span[0]), line)
    for match in INLINE_LINK.finditer(text):
        found.append((match.start(), ESCAPE.sub(r"\1", match[1] if match[1] is not None else match[2])))
    found += [(match.start(), match[1]) for match in AUTOLINK.finditer(text)]
    for match in HTML_LINK.finditer(text):
        found.append((match.start(), html.unescape(match[1] if match[1] is not None else match[2])))
    return [url.strip() for _position, url in sorted(found) if url.strip()]


# --- what a link names --------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a link names: ``entry`` (kind, slug), ``tags`` (slugs), an
    ``external`` address, or ``problem`` (broken whatever the database
    holds). All empty: a page that exists (or nothing to check)."""

    entry: tuple | None = None
    tags: tuple = ()
    external: str = ""
    problem: str = ""


OK = Target()


def site_hosts():
    """(host, port) pairs that mean this site in a full address."""
    if not settings.SITE_URL:
        return set()
    return {_host_port(urlsplit(settings.SITE_URL))}


def _host_port(parts):
    try:
        port = parts.port
    except ValueError:
        port = None
    return ((parts.hostname or "").lower(), None if port in (80, 443) else port)


def classify(link, *, base="/", hosts=frozenset()):
    """The Target of a Link found in the text of the page at path ``base``;
    ``hosts``: site_hosts()."""
    if link.problem:
        return Target(problem=link.problem)
    if link.entry:
        return Target(entry=link.entry)
    if link.tags:
        return Target(tags=link.tags)
    url = link.url
    if url.startswith("#"):
        return OK
    parts = urlsplit(url if not url.startswith("//") else "https:" + url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if _host_port(parts) not in hosts:
            return Target(external=parts.geturl())
        return classify_path(parts.path or "/")
    if scheme or parts.netloc or not parts.path:
        # mailto:, tel:… or "?page=2": nothing to check.
        return OK
    return classify_path(urlsplit(urljoin(base, parts.path)).path)


def classify_path(path):
    """The Target of a path on this site (from the URLconf; no query)."""
    path = unquote(path)
    try:
        match = resolve(path)
    except Resolver404:
        match = None
        if settings.APPEND_SLASH and not path.endswith("/"):
            # CommonMiddleware redirects to the address with the slash.
            with contextlib.suppress(Resolver404):
                match = resolve(path + "/")
    if match is None:
        static = "/" + settings.STATIC_URL.lstrip("/")
        if path.startswith(static):
            return OK if finders.find(path.removeprefix(static)) else Target(problem="no such static file")
        return Target(problem="no such page")
    if match.route.startswith(STAFF_ONLY_ROUTES):
        return Target(problem="a staff-only page (visitors cannot open it)")
    if match.view_name in ENTRY_VIEWS:
        return Target(entry=(SECTION_KIND[match.namespace], match.kwargs["slug"]))
    if match.view_name in TAG_VIEWS:
        slugs = match.kwargs["slugs"].split("+")
        if not all(slugs):
            return Target(problem="an empty category in the address")
        if len(set(slugs)) > settings.MAX_TAGS_PER_LISTING:
            return Target(problem=f"more than {settings.MAX_TAGS_PER_LISTING} categories at once")
        return Target(tags=tuple(slugs))
    return OK


# --- a batch of entries --------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the report: a link in an entry's text, and why it is
    broken (``broken``) or worth a note (not broken: an alias)."""

    kind: str
    entry_id: int
    title: str
    state: str
    admin_url: str
    field: str
    line: int
    link: str
    reason: str
    broken: bool = True

    def __str__(self):
        entry = f"{'' if self.broken else 'note: '}{self.kind} “{self.title}” ({self.state})"
        return f"{entry}, {self.field} line {self.line}: {self.link} — {self.reason}"


@dataclass
class Lookup:
    """What a batch's links name, as found: entries {(kind, slug): state or
    None when published}, tags {slug: Tag}, aliases {slug: Tag}."""

    entries: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    aliases: dict = field(default_factory=dict)


def state_of(status, publish_at, expire_at, now=None):
    """An entry's state in words: "draft", "in review", "archived",
    "published", "scheduled" or "expired"."""
    now = now or timezone.now()
    if status != Status.PUBLISHED:
        return Status(status).label.lower()
    if is_published(status, publish_at, expire_at, now):
        return "published"
    if expire_at is not None and expire_at <= now:
        return "expired"
    return "scheduled"


def look_up(targets, now=None):
    """One query per kind of entry named, one for the categories, one for
    aliases (only when some slug is not a category's)."""
    lookup = Lookup()
    wanted = defaultdict(set)
    for target in targets:
        if target.entry:
            wanted[target.entry[0]].add(target.entry[1])
    for kind, slugs in wanted.items():
        model = registry.model_for(kind)
        rows = model._default_manager.filter(slug__in=slugs).values_list("slug", "status", "publish_at", "expire_at")
        for slug, status, publish_at, expire_at in rows:
            state = state_of(status, publish_at, expire_at, now)
            lookup.entries[(kind, slug)] = None if state == "published" else state
    tag_slugs = {slug for target in targets for slug in target.tags}
    if tag_slugs:
        lookup.tags = {
            tag.slug: tag for tag in Tag.objects.filter(slug__in=tag_slugs).only("name", "slug", "entry_count")
        }
        if missing := tag_slugs - lookup.tags.keys():
            lookup.aliases = tags_by_alias(missing)
    return lookup


def problems(target, lookup):
    """[(broken, reason)] of one Target, given the batch's Lookup."""
    if target.problem:
        return [(True, target.problem)]
    if target.entry:
        kind, _slug = target.entry
        if target.entry not in lookup.entries:
            return [(True, f"no such {kind}")]
        state = lookup.entries[target.entry]
        return [(True, f"{kind} not published ({state})")] if state else []
    found = []
    for slug in dict.fromkeys(target.tags):
        tag = lookup.tags.get(slug)
        alias = lookup.aliases.get(slug)
        if tag is not None and not tag.entry_count:
            found.append((True, f"no published entry carries the category “{tag.name}”"))
        elif tag is None and alias is None:
            found.append((True, f"no such category “{slug}”"))
        elif tag is None and not alias.entry_count:
            found.append((True, f"“{slug}” is now the category “{alias.name}”, which no published entry carries"))
        elif tag is None:
            found.append((False, f"“{slug}” redirects to /tags/{alias.slug}/ (“{alias.name}”)"))
    return found


def text_fields(model):
    return [model._meta.get_field(name) for name in TEXT_FIELDS if _has_field(model, name)]


def _has_field(model, name):
    return any(field.name == name for field in model._meta.get_fields())


def check_batch(model, sources, *, hosts=None, external=None, now=None):
    """The report's rows for ``sources`` (entries of ``model``, in order),
    in a fixed number of queries. External links go to ``external`` (an
    ExternalLinks) when given, else they are not checked."""
    hosts = site_hosts() if hosts is None else hosts
    now = now or timezone.now()
    kind = registry.kind_of(model)
    fields = text_fields(model)
    found = []  # (source, field, Link, Target)
    for source in sources:
        base = source.get_absolute_url()
        for text_field in fields:
            for link in extract_links(getattr(source, text_field.attname)):
                found.append((source, text_field, link, classify(link, base=base, hosts=hosts)))
    lookup = look_up([target for *_, target in found], now)
    rows = []
    for source, text_field, link, target in found:
        if target.external:
            if external is not None:
                external.add(target.external, _row(kind, model, source, text_field, link, "", now))
            continue
        for broken, reason in problems(target, lookup):
            rows.append(_row(kind, model, source, text_field, link, reason, now, broken=broken))
    return rows


def _row(kind, model, source, text_field, link, reason, now, broken=True):
    return Row(
        kind=kind,
        entry_id=source.pk,
        title=source.title,
        state=state_of(source.status, source.publish_at, source.expire_at, now),
        admin_url=admin_url(model, pk=source.pk),
        field=str(text_field.verbose_name),
        line=link.line,
        link=link.written,
        reason=reason,
        broken=broken,
    )


# --- every entry --------------------------------------------------------------


def batches(models=None, *, start=None, batch_size=BATCH_SIZE):
    """(model, [entries]) in (kind, primary key) order, one query a batch.
    ``start``: (kind, pk) to continue after. Only entries whose text could
    hold a link are read."""
    models = registry.models() if models is None else models
    kinds = [registry.kind_of(model) for model in models]
    begin, after = 0, 0
    if start is not None:
        begin, after = kinds.index(start[0]), start[1]
    for model in models[begin:]:
        fields = [text_field.name for text_field in text_fields(model)]
        if not fields:
            after = 0
            continue
        could_link = Q()
        for name in fields:
            for marker in ("](", "]:", "[[", "<http", "href=", "src="):
                could_link |= Q(**{f"{name}__icontains": marker})
        queryset = (
            model._default_manager.filter(could_link)
            .only("pk", "title", "slug", "status", "publish_at", "expire_at", *fields)
            .order_by("pk")
        )
        while True:
            batch = list(queryset.filter(pk__gt=after)[:batch_size])
            if batch:
                yield model, batch
            if len(batch) < batch_size:
                break
            after = batch[-1].pk
        after = 0


def report_rows(models=None, *, batch_size=BATCH_SIZE, external=None):
    """Every row of the report, entry by entry (see check_batch)."""
    hosts = site_hosts()
    for model, sources in batches(models, batch_size=batch_size):
        yield from check_batch(model, sources, hosts=hosts, external=external)


@dataclass
class Page:
    rows: list
    entries_checked: int
    # (kind, pk) to continue after, or None when every entry was checked.
    next_start: tuple | None


def report_page(models=None, *, start=None, max_entries=5000, max_rows=100, batch_size=BATCH_SIZE):
    """Part of the report, for a page: it stops after the batch that reaches
    ``max_entries`` entries, or at the end of the entry that reaches
    ``max_rows`` rows, and says where to go on from. Internal links only."""
    hosts = site_hosts()
    rows, checked = [], 0
    for model, sources in batches(models, start=start, batch_size=batch_size):
        kind = registry.kind_of(model)
        batch_rows = check_batch(model, sources, hosts=hosts)
        room = max_rows - len(rows)
        if len(batch_rows) > room:
            # The page ends with the entry that fills it, all its rows shown.
            last = batch_rows[room - 1].entry_id
            cut = room
            while cut < len(batch_rows) and batch_rows[cut].entry_id == last:
                cut += 1
            position = next(index for index, source in enumerate(sources, start=1) if source.pk == last)
            return Page(rows + batch_rows[:cut], checked + position, (kind, last))
        rows += batch_rows
        checked += len(sources)
        if len(rows) >= max_rows or checked >= max_entries:
            return Page(rows, checked, (kind, sources[-1].pk))
    return Page(rows, checked, None)


# --- external links -----------------------------------------------------------


@dataclass
class ExternalLinks:
    """External addresses met in the report (at most ``cap`` distinct ones
    are kept, with every place each one occurs), checked in one go at the end."""

    cap: int = EXTERNAL_CAP
    found: dict = field(default_factory=dict)  # url → [Row without a reason]
    skipped: set = field(default_factory=set)

    def add(self, url, row):
        if url in self.found:
            self.found[url].append(row)
        elif len(self.found) < self.cap:
            self.found[url] = [row]
        else:
            self.skipped.add(url)

    def rows(self, *, timeout=EXTERNAL_TIMEOUT, workers=EXTERNAL_WORKERS):
        """Rows for the addresses that do not answer, a small thread pool
        checking them concurrently."""
        if not self.found:
            return
        urls = list(self.found)
        with ThreadPoolExecutor(max_workers=min(workers, len(urls))) as pool:
            results = pool.map(lambda url: check_url(url, timeout=timeout), urls)
            for url, reason in zip(urls, results, strict=True):
                if reason:
                    for row in self.found[url]:
                        yield replace(row, reason=reason)


def check_url(url, *, timeout=EXTERNAL_TIMEOUT):
    """None if ``url`` answers with a success (redirects followed), else
    why not. HEAD first; a server that refuses HEAD gets a GET (its body
    is not read)."""
    reason = None
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                return None
        except urllib.error.HTTPError as error:
            reason = f"HTTP {error.code}"
            error.close()
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                return f"no answer within {timeout:g} s"
            return f"unreachable ({error.reason})"
        except TimeoutError:
            return f"no answer within {timeout:g} s"
        except (OSError, ValueError) as error:
            return f"unreachable ({error})"
    return reason
