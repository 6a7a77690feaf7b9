"""The documented production environment (deploy/k2site.env.example): Django's
deployment checks pass, and gunicorn started as `make serve` starts it
answers over real HTTP with the security headers of the README."""

import os

import pytest
from django.core.management import call_command

from bench.nginx_front import free_port
from tests.k2site.serving import get, manage, production_env, running_gunicorn


def test_deployment_checks_pass_with_the_documented_environment(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.fixture
def production_site(tmp_path):
    """The documented recipe: migrate, collectstatic (done by make test),
    demo content, then `make serve`'s gunicorn on a free port."""
    env = production_env(tmp_path, GUNICORN_WORKERS="2", CACHE_URL="")
    for command in (["migrate", "--no-input"], ["load_demo"]):
        result = manage(env, *command)
        assert result.returncode == 0, result.stdout + result.stderr
    with running_gunicorn(env, free_port(), tmp_path / "gunicorn.log") as url:
        yield url


def test_the_production_recipe_serves_pages_with_the_security_headers(production_site):
    # Plain HTTP (no X-Forwarded-Proto from the proxy): redirected to HTTPS.
    status, headers, _ = get(production_site + "/")
    assert status == 301 and headers["Location"] == "https://k2.example.org/"
    status, headers, body = get(production_site + "/", **{"X-Forwarded-Proto": "https"})
    assert status == 200 and b"Vitamin K2" in body
    assert headers["Strict-Transport-Security"] == "max-age=15552000; includeSubDomains; preload"
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    # Static files come from the app, hashed and cached for a year.
    css = next(part.split('"')[0] for part in body.decode().split('href="') if part.startswith("/static/css/"))
    status, headers, _ = get(production_site + css, **{"X-Forwarded-Proto": "https"})
    assert status == 200 and "max-age=315360000" in headers["Cache-Control"]
    # The demo study's PDF leaves through nginx's internal location.
    demo_study = "/studies/bone-loss-results-in-blood-vessel-plaque-if-low-vitamin-k2-less-bone-loss-if-hig/"
    status, headers, body = get(production_site + demo_study + "pdf/", **{"X-Forwarded-Proto": "https"})
    assert status == 200 and body == b"" and headers["X-Accel-Redirect"].startswith("/protected-media/studies/pdf/")
    status, headers, body = get(production_site + "/healthz", **{"X-Forwarded-Proto": "https"})
    assert (status, body) == (200, b"ok")


@pytest.mark.django_db
def test_admin_logins_are_throttled_and_a_superuser_can_unlock(client, settings):
    from django.contrib.auth.models import User

    User.objects.create_user("mona", password="right-password-123", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "mona", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "mona", "password": "right-password-123", "next": "/admin/"})
    assert response.status_code in (403, 429)
    assert "Too many failed sign-ins" in response.content.decode()
    call_command("axes_reset_username", "mona", stdout=open(os.devnull, "w"))  # noqa: SIM115
    response = client.post("/admin/login/", {"username": "mona", "password": "right-password-123", "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
