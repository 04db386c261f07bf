"""Production headers: every page carries the Content-Security-Policy (scripts and styles
from our own files only, the video players and Stripe allowed in frames) and a
Permissions-Policy; no template has an inline script, handler or style attribute, and no
page of the demo site renders one; /api/docs/ loads only our own assets; with the
production environment `check --deploy` is clean."""

import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from parta.common.testing.site import crawl, demo_client

ROOT = Path(settings.BASE_DIR)
VIDEO_HOSTS = [
    "https://www.youtube-nocookie.com",
    "https://rutube.ru",
    "https://vk.com",
    "https://vkvideo.ru",
]


class Inline(HTMLParser):
    """Inline scripts (executable <script> without src), <style> elements, on* handler
    attributes, style attributes and javascript: links of one page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        data_block = (attrs.get("type") or "").endswith("json")
        if tag == "script" and "src" not in attrs and not data_block:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name == "style":
                self.found.append(f"{tag} style=")
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")


def inline_parts(html: str) -> list[str]:
    parser = Inline()
    parser.feed(html)
    return parser.found


def test_no_template_has_inline_scripts_handlers_or_styles():
    templates = [p for p in (ROOT / "parta").rglob("*.html") if "static" not in p.parts]
    assert len(templates) > 30
    found = {}
    for path in templates:
        # Template tags inside attributes do not matter here: only the markup does.
        parts = inline_parts(re.sub(r"{%.*?%}|{{.*?}}", "x", path.read_text()))
        if parts:
            found[str(path.relative_to(ROOT))] = parts
    assert found == {}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "student", "staff"])
def test_every_page_has_the_policies_and_no_inline_code(who):
    client = demo_client(who)
    pages = crawl(client, ["/", "/courses/", "/purchases/", "/accounts/profile/", "/admin/"])
    html_pages = [url for url, status in pages.items() if status == 200]
    assert len(html_pages) > 5
    offenders = {}
    for url in html_pages:
        response = client.get(url)
        if not response["Content-Type"].startswith("text/html"):
            continue
        # Directives in any order (django-csp builds the header from a mapping).
        policy = dict(
            part.strip().split(" ", 1)
            for part in response["Content-Security-Policy"].split(";")
            if part.strip()
        )
        assert policy["script-src"] == "'self' https://js.stripe.com", url
        assert policy["style-src"] == "'self'", url
        assert "Permissions-Policy" in response.headers, url
        parts = inline_parts(response.content.decode())
        if parts:
            offenders[url] = parts
    assert offenders == {}


@pytest.mark.django_db
def test_the_policy_allows_the_video_players_in_frames(client):
    response = client.get("/healthz")
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    for host in VIDEO_HOSTS:
        assert host in policy["frame-src"].split()
        assert f'"{host}"' in response["Permissions-Policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_api_docs_reference_only_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle" in asset for asset in assets)
    assert [a for a in assets if not a.startswith("/")] == []
    assert inline_parts(html) == []
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def _deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            # The browser tests allow the ORM in their event loop; a deployment does not.
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DJANGO_SETTINGS_MODULE": "config.django.base",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "school.example.com",
    "DJANGO_SECURE_COOKIES": "true",
    "DJANGO_SECURE_SSL_REDIRECT": "true",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "DJANGO_SECURE_HSTS_PRELOAD": "true",
    "PARTA_PAYMENT_PROVIDER": "stripe",
    "PARTA_PAYMENT_PROVIDERS": "stripe",
}


def test_check_deploy_is_clean_with_the_production_environment():
    result = _deploy_check(PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_hsts_and_the_https_redirect_come_from_the_environment():
    result = _deploy_check({**PRODUCTION, "DJANGO_SECURE_HSTS_SECONDS": "0"})
    assert "security.W004" in result.stdout + result.stderr
    result = _deploy_check({**PRODUCTION, "DJANGO_SECURE_SSL_REDIRECT": "false"})
    assert "security.W008" in result.stdout + result.stderr
