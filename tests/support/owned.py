"""A small owned model with a page and an API, used to test the data-scope mechanism of app/core.

Its table is prefixed `test_` and created by the fixtures; the drift test ignores it.
"""

from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from app.base_data.models import Product
from app.core.api import BaseApi
from app.core.models import Model, OwnedMixin
from app.core.roles import READ, WRITE, register_resource
from app.core.views import BaseModelView


class OwnedNote(OwnedMixin, Model):
    __tablename__ = "test_owned_note"
    id = Column(Integer, primary_key=True)
    title = Column(String(64), nullable=False)
    product_id = Column(Integer, ForeignKey("product.id"), nullable=True)
    product = relationship(Product)

    def __repr__(self):
        return self.title


class NoteRef(Model):
    """Points at an owned record: its dropdown must offer only notes in scope."""

    __tablename__ = "test_note_ref"
    id = Column(Integer, primary_key=True)
    label = Column(String(64))
    note_id = Column(Integer, ForeignKey("test_owned_note.id"), nullable=True)
    note = relationship(OwnedNote)


class OwnedNoteView(BaseModelView):
    datamodel = SQLAInterface(OwnedNote)
    class_permission_name = "OwnedNote"
    title = "Notes"
    list_columns = ["title", "owner", "product"]
    add_columns = edit_columns = ["title", "owner", "product"]
    search_columns = ["title"]


class NoteRefView(BaseModelView):
    datamodel = SQLAInterface(NoteRef)
    class_permission_name = "NoteRef"
    title = "Refs"
    list_columns = ["label", "note"]
    add_columns = edit_columns = search_columns = ["label", "note"]


class OwnedNoteApi(BaseApi):
    datamodel = SQLAInterface(OwnedNote)
    resource_name = "test_owned_note"
    class_permission_name = "OwnedNote"
    list_columns = show_columns = ["id", "title", "owner.id"]
    add_columns = edit_columns = ["title"]


ACCESS = {"Admin": WRITE, "SalesManager": WRITE, "Salesperson": WRITE, "Executive": READ}


def register(appbuilder):
    register_resource(
        appbuilder,
        OwnedNoteView,
        name="Test Notes",
        label="Test Notes",
        category="Test",
        category_label="Test",
        access=ACCESS,
        api=OwnedNoteApi,
    )
    register_resource(
        appbuilder,
        NoteRefView,
        name="Test Refs",
        label="Test Refs",
        category="Test",
        category_label="Test",
        access=ACCESS,
    )


TEST_TABLES = [OwnedNote.__table__, NoteRef.__table__]
