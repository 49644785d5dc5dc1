"""Home page. The statistics issue fills it with per-role tiles; until then it greets and links the menus."""

from flask import g
from flask_appbuilder import IndexView, expose


class HomeView(IndexView):
    index_template = "home.html"

    @expose("/")
    def index(self):
        user = g.user if getattr(g.user, "is_authenticated", False) else None
        return self.render_template(self.index_template, appbuilder=self.appbuilder, user=user)
