"""Home page (首页): the tiles the areas register for the user's role, then the modules they may open."""

from flask import current_app, g
from flask_appbuilder import IndexView, expose

from app.extensions import db


class HomeView(IndexView):
    index_template = "home.html"

    @expose("/")
    def index(self):
        user = g.user if getattr(g.user, "is_authenticated", False) else None
        tiles = {}
        if user is not None and "home_tiles" in current_app.extensions:
            tiles = current_app.extensions["home_tiles"](db.session, user, self.appbuilder.sm)
        return self.render_template(self.index_template, appbuilder=self.appbuilder, user=user, tiles=tiles)
