"""Error pages in the user's language; JSON {"message"} under /api/. Never a bare English Werkzeug page."""

from flask import g, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request is not correct.",
    403: "You do not have permission for this.",
    404: "Not found.",
    405: "This action is not allowed this way.",
    413: "The file is too large.",
    429: "Too many attempts; please wait a moment and try again.",
    500: "Internal error; the change was not saved.",
}


def _message(code: int, error: HTTPException | None) -> str:
    # descriptions we set ourselves are already translated; Werkzeug's defaults are English
    own = getattr(error, "description", None) if error is not None else None
    if own and error is not None and own != type(error).description:
        return str(own)
    return gettext(MESSAGES.get(code, MESSAGES[400]))


def register(app) -> None:
    def handle(error):
        code = error.code if isinstance(error, HTTPException) else 500
        message = _message(code, error if isinstance(error, HTTPException) else None)
        if request.path.startswith("/api/"):
            return jsonify(message=message), code
        if "user" not in g:
            # errors raised before FAB's before_request (e.g. CSRF) have no g.user yet; the navbar needs one
            from flask_login import current_user

            g.user = current_user
        return render_template(
            "core/error.html",
            code=code,
            message=message,
            base_template=app.appbuilder.base_template,
            appbuilder=app.appbuilder,
        ), code

    for code in MESSAGES:
        app.register_error_handler(code, handle)
