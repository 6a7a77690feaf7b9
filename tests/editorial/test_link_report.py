"""The broken links report (editorial.link_check): what counts as broken,
where it is, the command and its exit status, the admin page, external
links against a local server, and a query count that does not grow with
the number of entries."""

import datetime
import http.server
import io
import socket
import threading
import time

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import TagAlias
from editorial import link_check
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def k2():
    """A category some published entry carries (so it is visible)."""
    tag = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    StudyFactory(title="Tagged study", slug="tagged", tags=[tag])
    tag.refresh_from_db()
    assert tag.entry_count == 1
    return tag


def rows(**kwargs):
    return list(link_check.report_rows(**kwargs))


def broken(**kwargs):
    return [row for row in rows(**kwargs) if row.broken]


def summary(row):
    return (row.title, row.field, row.line, row.link, row.reason)


# --- reading a text --------------------------------------------------------------


def test_links_are_found_with_their_line_numbers():
    text = "\n".join(
        [
            "# Title",  # 1
            'See [a study](/studies/one/ "Its title") and ![a chart](/static/x.png).',  # 2
            "",  # 3
            "```",  # 4
            "[not a link](/studies/in-code/)",  # 5
            "```",  # 6
            "Inline `[code](/studies/in-span/)` and <https://example.org/a> and [ref][r].",  # 7
            "[r]: /articles/referenced/",  # 8
            '<a href="/tags/a+b/">html</a> [nested ![img](/studies/img/)](/articles/outer/)',  # 9
            "[[list vitamin-k2+bone type=rct]]",  # 10
            "[[picks Further reading]]",  # 11
            "/studies/picked/",  # 12
            "not an address",  # 13
            "[[/picks]]",  # 14
            "[^1]: a footnote, not a reference",  # 15
        ]
    )
    found = [(link.line, link.written) for link in link_check.extract_links(text)]
    assert found == [
        (2, "/studies/one/"),
        (2, "/static/x.png"),
        (7, "https://example.org/a"),
        (8, "/articles/referenced/"),
        (9, "/tags/a+b/"),
        (9, "/studies/img/"),
        (9, "/articles/outer/"),
        (10, "[[list vitamin-k2+bone type=rct]]"),
        (12, "/studies/picked/"),
        (13, "not an address"),
    ]


def test_windows_line_ends_count_lines_the_same():
    (link,) = link_check.extract_links("one\r\ntwo\r\n\r\n[x](/studies/x/)\r\n")
    assert link.line == 4


# --- what is broken ----------------------------------------------------------------


def test_a_link_to_an_unknown_study_is_broken_with_its_entry_and_line():
    article = ArticleFactory(title="Arteries", body="## One\n\nText.\n\nSee [this](/studies/nope/).")
    (row,) = broken()
    assert summary(row) == ("Arteries", "body", 5, "/studies/nope/", "no such study")
    assert (row.kind, row.entry_id, row.state) == ("article", article.pk, "published")
    assert row.admin_url == f"/admin/articles/article/{article.pk}/change/"
    assert str(row) == "article “Arteries” (published), body line 5: /studies/nope/ — no such study"


def test_a_link_to_a_draft_study_is_broken_and_a_published_one_is_not(k2):
    StudyFactory(slug="hidden", draft=True)
    StudyFactory(slug="seen")
    ArticleFactory(title="Links", body="[a](/studies/hidden/)\n[b](/studies/seen/)\n[c](/studies/hidden/cite.ris)")
    assert [summary(row) for row in broken()] == [
        ("Links", "body", 1, "/studies/hidden/", "study not published (draft)"),
        ("Links", "body", 3, "/studies/hidden/cite.ris", "study not published (draft)"),
    ]


def test_scheduled_and_expired_entries_say_so():
    now = timezone.now()
    StudyFactory(slug="soon", publish_at=now + datetime.timedelta(days=2))
    ArticleFactory(slug="gone", expire_at=now - datetime.timedelta(days=1))
    ArticleFactory(title="Links", body="[a](/studies/soon/) [b](/articles/gone/)")
    assert [row.reason for row in broken()] == ["study not published (scheduled)", "article not published (expired)"]


def test_entries_in_every_state_are_checked_and_say_their_state():
    StudyFactory(title="Draft with a link", draft=True, summary="Intro.\n\n[x](/articles/missing/)")
    (row,) = broken()
    assert (row.kind, row.title, row.state, row.field, row.line) == (
        "study",
        "Draft with a link",
        "draft",
        "highlights",
        3,
    )
    assert row.admin_url.startswith("/admin/studies/study/")
    assert row.reason == "no such article"


def test_an_unknown_category_in_a_list_block_is_broken(k2):
    ArticleFactory(title="Blocks", body="Intro\n\n[[list vitamin-k2+nosuch limit=5]]\n")
    (row,) = broken()
    assert summary(row) == ("Blocks", "body", 3, "[[list vitamin-k2+nosuch limit=5]]", "no such category “nosuch”")


def test_a_category_no_published_entry_carries_is_broken(k2):
    TagFactory(name="Empty", slug="empty")
    ArticleFactory(body="[[list empty]]\n[t](/tags/vitamin-k2+empty/)")
    assert [(row.line, row.reason) for row in broken()] == [
        (1, "no published entry carries the category “Empty”"),
        (2, "no published entry carries the category “Empty”"),
    ]


def test_an_alias_of_a_visible_category_is_a_note_not_broken(k2):
    TagAlias.objects.create(tag=k2, name="K2 (old name)", slug="k2-old")
    ArticleFactory(title="Aliases", body="[[list k2-old]]\n\nSee [K2](/tags/k2-old/).")
    assert broken() == []
    notes = rows()
    assert [(row.line, row.broken, row.reason) for row in notes] == [
        (1, False, "“k2-old” redirects to /tags/vitamin-k2/ (“Vitamin K2”)"),
        (3, False, "“k2-old” redirects to /tags/vitamin-k2/ (“Vitamin K2”)"),
    ]
    assert str(notes[0]).startswith("note: article “Aliases”")


def test_an_alias_of_a_hidden_category_is_broken():
    hidden = TagFactory(name="Hidden", slug="hidden")
    TagAlias.objects.create(tag=hidden, name="Old hidden", slug="old-hidden")
    ArticleFactory(body="[[list old-hidden]]")
    (row,) = broken()
    assert row.reason == "“old-hidden” is now the category “Hidden”, which no published entry carries"


def test_a_picks_block_with_an_unpublished_article_is_broken():
    ArticleFactory(slug="ready")
    ArticleFactory(slug="not-yet", draft=True)
    StudyFactory(
        title="Picks",
        summary="[[picks Read more]]\n/articles/ready/\n- /articles/not-yet/\nhello\n[[/picks]]\n/articles/after/",
    )
    assert [(row.line, row.link, row.reason) for row in broken()] == [
        (3, "- /articles/not-yet/", "article not published (draft)"),
        (4, "hello", "not the address of an article or study"),
    ]


def test_full_addresses_on_the_sites_own_host_are_internal(settings):
    settings.SITE_URL = "https://k2.example.org"
    ArticleFactory(slug="here")
    ArticleFactory(
        title="Full",
        body="[a](https://k2.example.org/studies/nope/)\n"
        "[b](https://K2.example.org:443/articles/here/)\n"
        "[c](https://elsewhere.example.org/studies/nope/)\n"
        "[[picks]]\nhttps://k2.example.org/articles/nowhere/\n[[/picks]]",
    )
    assert [(row.line, row.link, row.reason) for row in broken()] == [
        (1, "https://k2.example.org/studies/nope/", "no such study"),
        (5, "https://k2.example.org/articles/nowhere/", "no such article"),
    ]


def test_other_site_paths_resolve_through_the_urlconf(k2):
    ArticleFactory(
        slug="page",
        body="\n".join(
            [
                "[search](/search/?q=k2) [list](/studies/?type=rct) [home](/) [top](#top) [mail](mailto:a@b.org)",
                "[gone](/nowhere/)",
                "[admin](/admin/studies/study/) [preview](/preview/studies/1/)",
                "[no slash](/studies) [relative](../tagged/) [feed](/tags/vitamin-k2/feed/)",
                "[too many](/tags/a+b+c+d+e+f+g/) [empty](/tags/vitamin-k2+/)",
                "[missing static](/static/nope.css) [static](/static/css/site.css)",
            ]
        ),
    )
    assert [(row.line, row.link, row.reason) for row in broken()] == [
        (2, "/nowhere/", "no such page"),
        (3, "/admin/studies/study/", "a staff-only page (visitors cannot open it)"),
        (3, "/preview/studies/1/", "a staff-only page (visitors cannot open it)"),
        # "../tagged/" from /articles/page/ is /articles/tagged/: a study's slug, not an article's.
        (4, "../tagged/", "no such article"),
        (5, "/tags/a+b+c+d+e+f+g/", "more than 6 categories at once"),
        (5, "/tags/vitamin-k2+/", "an empty category in the address"),
        (6, "/static/nope.css", "no such static file"),
    ]


# --- the command -------------------------------------------------------------------


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("check_links", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), str(error) + err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_the_command_prints_one_line_per_broken_link_and_exits_1():
    ArticleFactory(title="Title", draft=True, body="\n" * 11 + "[x](/studies/nope/)")
    StudyFactory(title="Fine", summary="[home](/)")
    status, out, err = run()
    assert status == 1
    assert out == "article “Title” (draft), body line 12: /studies/nope/ — no such study\n"
    assert "1 broken link(s) in 1 entry." in err


def test_the_command_exits_1_from_the_command_line(monkeypatch):
    ArticleFactory(body="[x](/studies/nope/)")
    # The command line closes the connections when done: not the test's.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["manage.py", "check_links", "--verbosity", "0"])
    assert exit_.value.code == 1


def test_the_command_exits_0_when_nothing_is_broken(k2):
    TagAlias.objects.create(tag=k2, name="K2", slug="k2")
    ArticleFactory(body="[[list k2]]")
    assert run() == (0, "No broken links.\n", "")
    status, out, _err = run("--verbosity", "2")
    assert status == 0
    assert out.startswith("note: article")
    assert run("--verbosity", "0") == (0, "", "")


def test_the_command_does_not_check_external_links_by_default(link_server):
    ArticleFactory(body=f"[x]({link_server.url}/missing)")
    assert run() == (0, "No broken links.\n", "")
    assert link_server.requests == []


# --- the admin page ------------------------------------------------------------------


def test_the_admin_page_lists_the_report_for_an_editor(editor, login):
    article = ArticleFactory(title="Needs fixing", draft=True, body="Text\n[x](/studies/nope/)")
    client = login(editor)
    response = client.get("/admin/broken-links/")
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    (row,) = page.select("table.link-report tbody tr")
    cells = [cell.get_text(" ", strip=True) for cell in row.select("td")]
    assert cells == ["Article Needs fixing", "Draft", "Body", "2", "/studies/nope/", "no such study"]
    assert row.select_one("a")["href"] == f"/admin/articles/article/{article.pk}/change/"
    # Linked from the admin index.
    index = BeautifulSoup(client.get("/admin/").content, "html.parser")
    assert index.select_one('a[href="/admin/broken-links/"]').get_text(strip=True) == "Broken links"


def test_the_admin_page_for_a_moderator_and_for_nobody(moderator, login):
    assert login(moderator).get("/admin/broken-links/").status_code == 200
    response = login(None).get("/admin/broken-links/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/broken-links/")


def test_the_admin_page_never_checks_external_links(editor, login, link_server):
    ArticleFactory(body=f"[x]({link_server.url}/missing)")
    response = login(editor).get("/admin/broken-links/")
    assert b"No broken links" in response.content
    assert link_server.requests == []


def test_the_admin_page_goes_on_page_by_page(editor, login, monkeypatch):
    from editorial.admin import link_report

    monkeypatch.setattr(link_report, "PAGE_ROWS", 3)
    articles = [
        ArticleFactory(title=f"Entry {number}", body="[a](/studies/x/)\n[b](/studies/y/)") for number in range(3)
    ]
    client = login(editor)
    first = BeautifulSoup(client.get("/admin/broken-links/").content, "html.parser")
    # The page ends with the entry that fills it, all its rows shown.
    assert len(first.select("table.link-report tbody tr")) == 4
    next_url = first.find("a", string="Next entries")["href"]
    assert next_url == f"/admin/broken-links/?after=article-{articles[1].pk}"
    second = BeautifulSoup(client.get(next_url).content, "html.parser")
    titles = {row.select_one("a").get_text() for row in second.select("table.link-report tbody tr")}
    assert titles == {"Entry 2"}
    assert client.get("/admin/broken-links/?after=nothing-1").status_code == 404


# --- external links ------------------------------------------------------------------


class LinkServer:
    """A local HTTP server: /ok answers 200, /missing 404, /no-head 405 to
    HEAD and 200 to GET; ``requests`` records (method, path)."""

    def __init__(self):
        self.requests = []
        server_self = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                server_self.requests.append((self.command, self.path))
                path = self.path.partition("?")[0]
                status = {"/ok": 200, "/missing": 404}.get(path, 200)
                if path == "/no-head":
                    status = 405 if self.command == "HEAD" else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_HEAD = do_GET = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def link_server():
    server = LinkServer()
    yield server
    server.close()


@pytest.fixture
def silent_server():
    """Accepts connections (the kernel's backlog) and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_external_links_404_200_and_no_answer(link_server, silent_server):
    ArticleFactory(
        title="Sources",
        body=f"[a]({link_server.url}/ok)\n[b]({link_server.url}/missing)\n"
        f"<{silent_server}/slow>\n[c]({link_server.url}/no-head)\n[d]({link_server.url}/missing)",
    )
    started = time.monotonic()
    status, out, _err = run("--external", "--timeout", "0.5")
    elapsed = time.monotonic() - started
    assert status == 1
    assert out.splitlines() == [
        f"article “Sources” (published), body line 2: {link_server.url}/missing — HTTP 404",
        f"article “Sources” (published), body line 5: {link_server.url}/missing — HTTP 404",
        f"article “Sources” (published), body line 3: {silent_server}/slow — no answer within 0.5 s",
    ]
    # The time-out is respected (and the addresses are checked side by side).
    assert elapsed < 3
    # HEAD first, GET when HEAD is refused; each address once.
    assert sorted(link_server.requests) == [
        ("GET", "/missing"),
        ("GET", "/no-head"),
        ("HEAD", "/missing"),
        ("HEAD", "/no-head"),
        ("HEAD", "/ok"),
    ]


def test_at_most_max_external_addresses_are_checked(link_server):
    ArticleFactory(body="\n".join(f"[{number}]({link_server.url}/missing?{number})" for number in range(5)))
    status, out, err = run("--external", "--max-external", "2")
    assert status == 1
    assert len(out.splitlines()) == 2
    assert len({path for _method, path in link_server.requests}) == 2
    assert "3 external address(es) not checked: over --max-external 2." in err


def test_check_url_directly(link_server):
    assert link_check.check_url(f"{link_server.url}/ok", timeout=2) is None
    assert link_check.check_url(f"{link_server.url}/missing", timeout=2) == "HTTP 404"
    assert link_check.check_url("http://127.0.0.1:9/", timeout=2).startswith("unreachable")


# --- cost ----------------------------------------------------------------------------


def report_queries():
    with CaptureQueriesContext(connection) as queries:
        found = rows()
    return len(queries), found


def make_entries(count, tag):
    for number in range(count):
        StudyFactory(
            slug=f"linking-{tag.slug}-{number}",
            summary=f"[[list {tag.slug}+gone-{number}]]\n[s](/studies/gone-{number}/) [a](/articles/gone-{number}/)",
        )
        ArticleFactory(body=f"[[picks]]\n/studies/linking-{tag.slug}-{number}/\n/articles/nope-{number}/\n[[/picks]]")


def test_the_query_count_does_not_grow_with_the_entries_in_a_batch(k2):
    make_entries(3, k2)
    few, found_few = report_queries()
    make_entries(9, TagFactory(name="Other", slug="other"))
    many, found_many = report_queries()
    assert len(found_many) > len(found_few) > 0
    assert many == few
    # A batch of each kind, then: the entries, the studies and articles
    # named, the categories and the aliases.
    assert few <= 2 * 5
