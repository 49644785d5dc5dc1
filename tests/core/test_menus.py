"""Every menu entry a role is shown opens for that role (no menu item leads to a 403 or an error)."""

import re

import pytest

from tests.support.databases import USERS


@pytest.mark.every_database(
    "each menu page runs its list, dashboard and report queries (scope filters, sums, ordering) when it opens; a query "
    "a server rejects answers 500"
)
@pytest.mark.parametrize("username", sorted(USERS))
def test_every_menu_entry_opens(as_user, username):
    client = as_user(username)
    html = client.get("/").get_data(as_text=True)
    nav = html.split('<ul class="nav navbar-nav">', 1)[1].split("</ul>\n", 1)[0] if "navbar-nav" in html else html
    links = sorted(set(re.findall(r'href="(/[^"#]+)"', nav)))
    links = [u for u in links if not u.startswith(("/lang/", "/logout", "/static/"))]
    assert links, f"{username} sees no menu"
    failures = {}
    for url in links:
        resp = client.get(url)
        if resp.status_code != 200:
            failures[url] = resp.status_code
    assert not failures, f"{username}: {failures}"
