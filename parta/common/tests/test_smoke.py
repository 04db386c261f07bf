"""Walk every page reachable by links from the demo data, as each kind of visitor, and
make sure none of them answers with a server error."""

import pytest

from parta.common.testing.site import crawl, demo_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["anonymous", "student", "moderator", "staff"])
def test_no_page_reachable_by_links_answers_500(who):
    client = demo_client(who)
    start = ["/", "/courses/", "/item/1/", "/item/2/", "/item/3/", "/api/docs/", "/healthz"]
    if who != "anonymous":
        start += ["/profile/", "/stats/", "/purchases/", "/balance/", "/workspace/", "/admin/"]
    seen = crawl(client, start)
    errors = {url: status for url, status in seen.items() if status >= 500}
    assert errors == {}
    # The walk really went through the site (today: about 29, 26, 86 and 132 pages).
    assert len(seen) > {"anonymous": 15, "student": 20, "moderator": 50, "staff": 80}[who]
