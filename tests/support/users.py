"""Signing in and finding the test users (USERS in tests/support/databases.py)."""

from flask.testing import FlaskClient

from tests.support.databases import PASSWORD


def login(client, username: str, password: str = PASSWORD):
    """A real sign-in through the login form."""
    resp = client.post("/login/", data={"username": username, "password": password}, follow_redirects=False)
    assert resp.status_code == 302, resp.data[:500]
    return client


def user_id(app, username: str) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_user(username=username).id


class FreshUserClient(FlaskClient):
    """Tests that hold an app context (the `db` fixture) make Flask reuse it, and its `g`, for every request;
    Flask-Login caches the user in `g`, so clear it so that each client is seen as its own user."""

    def open(self, *args, **kwargs):
        from flask import g, has_app_context

        if has_app_context():
            # the logged-in user (Flask-Login), the JWT and its user (flask-jwt-extended), FAB's g.user
            for key in [k for k in vars(g) if k in ("user", "_login_user") or k.startswith("_jwt_extended")]:
                g.pop(key, None)
        return super().open(*args, **kwargs)


def add_user(sm, username: str, role: str, password: str = PASSWORD, last_name: str = "测试"):
    """A user of one role, named after its login, as the test users are made."""
    user = sm.add_user(
        username=username,
        first_name=username,
        last_name=last_name,
        email=f"{username}@t.invalid",
        role=sm.find_role(role),
        password=password,
    )
    assert user, username
    return user
