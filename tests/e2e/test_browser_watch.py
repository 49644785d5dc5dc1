"""The watch on every page (tests/e2e/conftest.py) does catch what it is there for: a script the
Content-Security-Policy blocks and anything fetched from outside the server. Without it the other e2e tests would
pass on pages that break in a real browser."""

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


def test_csp_violations_and_outside_requests_are_caught(browse):
    page = browse()
    page.goto("/login/")
    expect(page.locator("input[name=username]")).to_be_visible()
    assert page.watch.problems == []  # the login page itself is clean

    # what a careless template change would do: an inline script without the nonce, a picture from a CDN
    page.evaluate(
        """() => {
             const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.append(s);
             const i = document.createElement('img'); i.src = 'https://cdn.example.invalid/logo.png';
             document.body.append(i);
           }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.ran") is None  # blocked
    problems = "\n".join(page.watch.problems)
    assert "Content Security Policy" in problems and "script" in problems, problems
    assert "cdn.example.invalid" in problems, problems
    page.watch.problems.clear()  # provoked here on purpose: not a failure of the app
