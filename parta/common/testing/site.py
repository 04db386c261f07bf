"""The demo site as a visitor sees it, for tests that walk it: a client signed in as one
of the demo people, and a walk over every page reachable by links."""

import re
from collections import deque

from django.core.management import call_command
from django.test import Client

from parta.accounts.demo import DEMO_MODERATOR_EMAIL, DEMO_STAFF_EMAIL, DEMO_STUDENT_EMAIL
from parta.accounts.models import User

DEMO_EMAILS = {
    "student": DEMO_STUDENT_EMAIL,
    "moderator": DEMO_MODERATOR_EMAIL,
    "staff": DEMO_STAFF_EMAIL,
}


def demo_client(who: str) -> Client:
    """Load the demo data and return a client that answers errors instead of raising
    them, signed in as the demo ``who`` (or not at all for "anonymous")."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    client = Client(raise_request_exception=False)
    if who != "anonymous":
        client.force_login(User.objects.get(email=DEMO_EMAILS[who]))
    return client


LINK = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/accounts/logout", "/admin/logout", "/static/", "/media/", "/i18n/", "/admin/jsi18n")
LIMIT = 400


def crawl(client: Client, start: list[str]) -> dict[str, int]:
    seen: dict[str, int] = {}
    queue = deque(start)
    while queue and len(seen) < LIMIT:
        url = queue.popleft()
        if url in seen or url.startswith(SKIP):
            continue
        response = client.get(url)
        seen[url] = response.status_code
        content_type = response.get("Content-Type", "")
        if response.status_code == 200 and content_type.startswith("text/html"):
            for link in LINK.findall(response.content.decode()):
                link = link.replace("&amp;", "&")
                # Admin change lists link to every row and filter: one of each is enough.
                if "/admin/" in link and (
                    "?" in link or re.search(r"/\d+/(change|delete|history)/", link)
                ):
                    continue
                if link not in seen:
                    queue.append(link)
    return seen
