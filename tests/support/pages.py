"""Reading pages the way a user reads them: messages in the catalogue's words, flashed alerts, form tokens; the pages
that exist; and the catalogue itself."""

import html as html_lib
import re

from tests.support import ROOT

CATALOG = ROOT / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def message(app, msgid, **kwargs) -> str:
    """The message as the app shows it (Chinese once translated), so assertions follow the catalogue."""
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(msgid, **kwargs)


def alerts(html: str, category: str = "danger") -> list[str]:
    """The texts of a page's flashed alerts of one category."""
    found = re.findall(rf'<div class="alert alert-{category}">(.*?)</div>', html, re.S)
    return [html_lib.unescape(re.sub(r"<[^>]+>", "", m)).replace("×", "").strip() for m in found]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no csrf_token field in the form"
    return match.group(1)


class Answer:
    """What a WSGI server answers when the app lets an exception escape: a bare 500."""

    status_code = 500
    mimetype = "text/html"


def send(client, method: str, url: str, **kwargs):
    try:
        return client.open(url, method=method, **kwargs)
    except Exception:  # an escaped exception is a 500 for the user; the test asserts the status
        return Answer()


def base_data_views(app):
    from app.core.views import BaseModelView

    return [
        v
        for v in app.appbuilder.baseviews
        if isinstance(v, BaseModelView) and v.datamodel.obj.__module__ == "app.base_data.models"
    ]


def read_catalog():
    from babel.messages.pofile import read_po

    with CATALOG.open("rb") as fh:
        return read_po(fh, locale="zh")
