"""A bounded fuzz test: random, hostile input to every public URL pattern
and parameter, through real HTTP, must never get a 5xx.

Deterministic (a fixed seed, or K2_FUZZ_SEED to try others) and bounded
(K2_FUZZ_ROUNDS rounds; the default keeps it to a few seconds in CI).
"""

import http.client
import os
import random
import urllib.parse

import pytest
from django.urls import get_resolver

from tests.factories import ArticleFactory, StudyFactory, TagFactory

SEED = int(os.environ.get("K2_FUZZ_SEED", "20261121"))
ROUNDS = int(os.environ.get("K2_FUZZ_ROUNDS", "20"))
NUMERIC = {"page", "year_min", "year_max", "p"}
METHODS = ["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]

# Every public address pattern, with the parameters it reads; "{slug}",
# "{tags}" and "{ext}" are filled with real and hostile values.
PATTERNS = {
    "/": [],
    "/articles/": ["page"],
    "/articles/{slug}/": [],
    "/studies/": ["q", "type", "year_min", "year_max", "tag", "journal", "sort", "page"],
    "/studies/{slug}/": [],
    "/studies/{slug}/cite.{ext}": [],
    "/studies/{slug}/pdf/": [],
    "/tags/": [],
    "/tags/{tags}/": ["page"],
    "/tags/{tags}/feed/": [],
    "/tags/{tags}/cite.{ext}": [],
    "/search/": ["q", "page"],
    "/feed/": [],
    "/sitemap.xml": ["p"],
    "/sitemap-{section}.xml": ["p"],
    "/robots.txt": [],
    "/healthz": [],
    "/preview/studies/{number}/": [],
    "/preview/articles/{number}/": [],
    "/api/v1/": [],
    "/api/v1/studies/": ["q", "type", "year_min", "year_max", "tag", "journal", "sort", "cursor"],
    "/api/v1/studies/{slug}/": [],
    "/api/v1/articles/": ["cursor"],
    "/api/v1/articles/{slug}/": [],
    "/api/v1/tags/": [],
    "/api/v1/tags/{tags}/entries/": ["cursor"],
    "/api/v1/schema/": [],
    "/api/v1/docs/": [],
}


def hostile_number(rng):
    return str(rng.choice([0, -1, -(10**30), 10**20, 2**63, 2**31, 10**6 + 1, 99999999999999999999, 3]))


def hostile_text(rng):
    """A value a careless parser chokes on."""
    choices = [
        lambda: (
            "".join(chr(rng.randint(0x20, 0x10FFFF)) for _ in range(rng.randint(1, 12)))
            .encode("utf-8", "surrogatepass")
            .decode("utf-8", "replace")
        ),
        lambda: "a\x00b",
        lambda: hostile_number(rng),
        lambda: "x" * rng.choice([255, 256, 1000, 5000]),
        lambda: rng.choice(["'", '"', "<script>", "%", "\\", "../..", "%00", "+", "++", " ", "\u202e", "🦴"]),
        lambda: rng.choice(["1e9", "NaN", "inf", "0x10", "١٢", "2019-13", ""]),
    ]
    return rng.choice(choices)()


def fill(rng, pattern, real):
    values = {
        "slug": rng.choice([real["study"], real["article"], hostile_text(rng)]),
        "tags": "+".join(rng.choice([*real["tags"], hostile_text(rng)]) for _ in range(rng.randint(1, 9))),
        "ext": rng.choice(["bib", "ris", "json", "pdf", hostile_text(rng)]),
        "section": rng.choice(["entries", "tags", hostile_text(rng)]),
        "number": rng.choice(["1", str(10**20), "-1", hostile_text(rng)]),
    }
    path = pattern
    for name, value in values.items():
        path = path.replace("{" + name + "}", urllib.parse.quote(value, safe="+"))
    return path


def query(rng, names, real):
    pairs = []
    for name in names:
        for _ in range(rng.choice([0, 1, 1, 2, 7])):  # absent, once, repeated
            if name == "tag" and rng.random() < 0.5:
                pairs.append((name, rng.choice(real["tags"])))
            elif name in NUMERIC and rng.random() < 0.6:
                pairs.append((name, hostile_number(rng)))
            else:
                pairs.append((name, hostile_text(rng)))
    if rng.random() < 0.2:
        pairs.append((hostile_text(rng), hostile_text(rng)))
    return urllib.parse.urlencode(pairs)


@pytest.fixture
def real(transactional_db):
    bone, calcium = TagFactory(name="Bone", slug="bone"), TagFactory(name="Calcium", slug="calcium")
    study = StudyFactory(title="Menaquinone and bone", tags=[bone, calcium])
    article = ArticleFactory(title="Bones and K2", tags=[bone])
    return {"study": study.slug, "article": article.slug, "tags": ["bone", "calcium"]}


def test_every_public_pattern_covered():
    """The list above names every public route (a new one must join it)."""
    public = {
        str(pattern.pattern)
        for pattern in get_resolver().url_patterns
        if not str(pattern.pattern).startswith(("admin/", "bench/"))
    }
    assert len(public) <= len(PATTERNS) + 3, public  # articles/, studies/, tags/ are includes


def test_no_input_gets_a_server_error(live_server, real):
    rng = random.Random(SEED)
    host, port = live_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    failures = []
    requests = 0
    for _ in range(ROUNDS):
        for pattern, names in PATTERNS.items():
            path = fill(rng, pattern, real)
            params = query(rng, names, real)
            url = f"{path}?{params}" if params else path
            method = rng.choice(METHODS)
            body = hostile_text(rng).encode() if method in ("POST", "PUT", "PATCH") else None
            try:
                connection.request(method, url, body=body)
                response = connection.getresponse()
                response.read()
            except (http.client.HTTPException, OSError) as error:
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=30)
                failures.append((method, url, repr(error)))
                continue
            requests += 1
            if response.status >= 500:
                failures.append((method, url, response.status))
    connection.close()
    assert not failures, failures[:10]
    assert requests >= ROUNDS * len(PATTERNS) * 0.9
