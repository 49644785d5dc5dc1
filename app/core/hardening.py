"""Web hardening written once: security headers with a per-request CSP nonce, the password policy, the refusal of
U+0000 in any input, and the login lockout. `install(app)` wires the headers, the policy and the refusal;
SalesSecurityManager (app/core/security.py) calls the lockout functions from FAB's login path, so the pages and
`/api/v1/security/login` share them.

Lockout state lives in the database, so it holds across app servers: the count is FAB's own
`ab_user.fail_login_count` (reset by FAB on a successful login), the time of each failure is a `login_failed` entry
in the audit log (`table_name='ab_user'`, `row_id=<user id>`, read through its (table_name, row_id) index), which
also shows administrators who was tried from where.
"""

import datetime as dt
import math
import secrets
import string

from flask import abort, current_app, has_request_context, request
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import LazyString, gettext
from sqlalchemy import func, select, update

from app.core.audit import AuditLog, _actor, record
from app.core.models import utcnow

LOGIN_FAILED = "login_failed"
UNLOCKED = "unlock"

# Passwords of ten or more characters with letters and digits that still top the leaked-password lists (compared
# case-insensitively); the shorter classics already fail the length rule.
COMMON_PASSWORDS = frozenset(
    {
        "password123",
        "password1234",
        "passw0rd123",
        "qwerty123456",
        "qwertyuiop123",
        "qwe123456789",
        "1qaz2wsx3edc",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "q1w2e3r4t5",
        "a123456789",
        "aa123456789",
        "abc1234567",
        "abcd123456",
        "abc123456789",
        "admin12345",
        "admin123456",
        "administrator1",
        "woaini1314",
        "woaini521",
        "iloveyou123",
        "zxcvbnm123",
        "qq123456789",
        "123456789a",
        "1234567890a",
        "12345678abc",
        "welcome123",
        "changeme123",
        "test123456",
        "huawei12345",
    }
)


# ------------------------------------------------------------------ headers


def csp_nonce() -> str:
    """This request's nonce (FAB's templates call it through `baselib.get_nonce()`). Kept in the WSGI environ,
    not in `g`: an app context may outlive one request (tests hold one), a request never does."""
    if not has_request_context():
        return ""
    nonce = request.environ.get("sales.csp_nonce")
    if nonce is None:
        nonce = request.environ["sales.csp_nonce"] = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str) -> str:
    # Styles keep 'unsafe-inline': FAB's templates, Select2 and ECharts' tooltips write style="" attributes.
    # Scripts do not: every inline script carries the nonce and no page uses on*= handlers or javascript: links.
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


def install(app) -> None:
    app.config.setdefault("LOGIN_MAX_FAILURES", 5)
    app.config.setdefault("LOGIN_LOCKOUT_MINUTES", 15)
    app.config.setdefault("PASSWORD_MIN_LENGTH", 10)
    app.config.setdefault("FAB_PASSWORD_COMPLEXITY_ENABLED", True)
    app.config.setdefault("FAB_PASSWORD_COMPLEXITY_VALIDATOR", check_password_complexity)
    app.add_template_global(csp_nonce)
    app.after_request(add_security_headers)
    app.before_request(refuse_nul)


# ------------------------------------------------------------------ U+0000


def refuse_nul() -> None:
    """A NUL character is never meant, PostgreSQL cannot store it in text (the driver raises, a list filter then
    failed with a 500) and SQLite and MariaDB would keep it: a query, form or JSON body carrying one is refused
    before any view sees it, the same way on every database."""
    found = _has_nul(request.args)
    if not found and request.method in ("POST", "PUT", "PATCH"):
        found = _has_nul(request.form) or (request.is_json and _has_nul(request.get_json(silent=True)))
    if found:
        abort(
            400,
            description=gettext("The input contains an invisible control character (U+0000); remove it and try again."),
        )


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):  # a JSON object
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if hasattr(value, "items"):  # the query's or the form's MultiDict: every value of every key
        return any("\x00" in k or "\x00" in v for k, v in value.items(multi=True))
    return False


# ------------------------------------------------------------------ password policy


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why `password` is refused, in the user's language, or None when it is acceptable."""
    password = password or ""
    min_length = current_app.config.get("PASSWORD_MIN_LENGTH", 10)
    if len(password) < min_length:
        return gettext("The password must have at least %(n)d characters.", n=min_length)
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return gettext("The password must contain both letters and digits.")
    if username and len(username) >= 3 and username.strip().lower() in password.lower():
        return gettext("The password must not contain the user name.")
    if password.lower() in COMMON_PASSWORDS:
        return gettext("This password is too common; choose another.")
    return None


def check_password_complexity(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: FAB calls it from the user add form, the administrator's password reset
    and the user's own password change, with the password only; the user name comes from the request."""
    problem = password_problem(password, _username_of_password_form())
    if problem:
        raise PasswordComplexityValidationError(problem)


def _username_of_password_form() -> str | None:
    if not has_request_context():
        return None
    if request.form.get("username"):  # the user add form
        return request.form["username"]
    sm = current_app.appbuilder.sm
    endpoint = (request.endpoint or "").split(".")[0]
    if endpoint == sm.resetpasswordview.__name__ and request.args.get("pk"):  # an administrator resets someone's
        user = sm.get_user_by_id(request.args.get("pk"))
        return user.username if user else None
    from app.core.scope import _user

    user = _user()  # the user's own password change
    return user.username if user is not None else None


def password_policy_text() -> LazyString:
    """The rule, shown under the password fields instead of FAB's "this application does not check this"."""
    return LazyString(
        lambda: gettext(
            "At least %(n)d characters with both letters and digits; not containing the user name and not a common "
            "password.",
            n=current_app.config.get("PASSWORD_MIN_LENGTH", 10),
        )
    )


def generate_password(length: int = 16) -> str:
    """A random password that passes the policy (letters and digits, no look-alike characters)."""
    alphabet = [c for c in string.ascii_letters + string.digits if c not in "Il1O0o"]
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if password_problem(password) is None:
            return password


# ------------------------------------------------------------------ lockout


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config.get("LOGIN_LOCKOUT_MINUTES", 15))


def last_failure_at(session, user_id: int) -> dt.datetime | None:
    return session.execute(
        select(func.max(AuditLog.at)).where(
            AuditLog.table_name == "ab_user", AuditLog.row_id == str(user_id), AuditLog.action == LOGIN_FAILED
        )
    ).scalar()


def locked_minutes(session, user) -> int:
    """Minutes left of the user's lockout (0 when not locked): the last LOGIN_MAX_FAILURES logins failed, each
    within the window of the one before, and the window since the last one has not passed. LOGIN_MAX_FAILURES = 0
    turns the lockout off."""
    max_failures = current_app.config.get("LOGIN_MAX_FAILURES", 5)
    if max_failures <= 0 or (user.fail_login_count or 0) < max_failures:
        return 0
    last = last_failure_at(session, user.id)
    if last is None:
        return 0
    left = last + _window() - utcnow()
    return math.ceil(left.total_seconds() / 60) if left.total_seconds() > 0 else 0


def refuse_login(message: str) -> None:
    """Remember why this request's login was refused, for the login form and the API to say (per request, like
    the nonce)."""
    if has_request_context():
        request.environ["sales.login_refusal"] = message


def login_refusal() -> str | None:
    return request.environ.get("sales.login_refusal") if has_request_context() else None


def lockout_message(minutes: int) -> str:
    return gettext(
        "This account is locked after %(n)d failed logins. Try again in %(minutes)d minutes or ask an administrator "
        "to unlock it.",
        n=current_app.config.get("LOGIN_MAX_FAILURES", 5),
        minutes=minutes,
    )


def record_failed_login(session, user) -> int:
    """Count one failed login of `user` and keep its time; returns the consecutive failures. A failure longer than
    the window after the previous one starts the count again, so old mistakes do not add up to a lockout."""
    model = type(user)
    now = utcnow()
    last = last_failure_at(session, user.id)
    fresh = last is None or now - last >= _window()
    session.execute(
        update(model)
        .where(model.id == user.id)
        .values(fail_login_count=1 if fresh else func.coalesce(model.fail_login_count, 0) + 1)
    )
    session.add(
        AuditLog(
            at=now,
            username=user.username,
            ip=_actor()[2],
            action=LOGIN_FAILED,
            table_name="ab_user",
            row_id=str(user.id),
        )
    )
    session.commit()
    session.refresh(user)
    return user.fail_login_count or 0


def unlock(session, user) -> None:
    """Clear the failure count (an administrator's unlock); recorded in the audit log."""
    user.fail_login_count = 0
    record(session, UNLOCKED, user)
    session.commit()
