"""Data scope on the test-only owned model OwnedNote: a Salesperson reaches only their own notes through every
entry point (list, show, edit, delete, bulk action, Excel export, REST API, related dropdowns); managers and admins
reach all; a role without the permission reaches none."""

import io
import re

import openpyxl
import prison
import pytest

from tests.support.owned import NoteRef, OwnedNote
from tests.support.users import user_id

pytestmark = pytest.mark.every_database(
    "the owner scope is a filter in each list, show, export, action, API and dropdown query, and the owner is "
    "stored and read back"
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
API = "/api/v1/test_owned_note/"


# ------------------------------------------------------------------ helpers


def add_note(app, owner: str, title: str) -> int:
    from app.extensions import db

    with app.app_context():
        note = OwnedNote(title=title, owner_id=user_id(app, owner))
        db.session.add(note)
        db.session.commit()
        note_id = note.id
        db.session.remove()
    return note_id


def load_note(app, note_id: int) -> tuple[str, int] | None:
    """(title, owner_id) read fresh from the database, None when the row is gone."""
    from app.extensions import db

    with app.app_context():
        note = db.session.get(OwnedNote, note_id)
        row = (note.title, note.owner_id) if note is not None else None
        db.session.remove()
    return row


def notes_titled(app, title: str) -> list[tuple[str, int]]:
    from app.extensions import db

    with app.app_context():
        rows = [(n.title, n.owner_id) for n in db.session.query(OwnedNote).filter(OwnedNote.title == title)]
        db.session.remove()
    return rows


def xlsx_rows(resp) -> list[list]:
    assert resp.status_code == 200, resp.data[:300]
    assert resp.mimetype == XLSX
    wb = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)
    rows = []
    for ws in wb.worksheets:
        rows.extend([list(r) for r in ws.iter_rows(values_only=True)])
    return rows


def xlsx_titles(resp) -> set[str]:
    rows = xlsx_rows(resp)
    return {str(r[0]) for r in rows[1:] if r and r[0] is not None}


def api_titles(client, headers, tag: str) -> set[str]:
    q = prison.dumps({"filters": [{"col": "title", "opr": "sw", "value": tag}], "page_size": 100})
    resp = client.get(f"{API}?q={q}", headers=headers)
    assert resp.status_code == 200, resp.data
    return {row["title"] for row in resp.json["result"]}


def list_html(client, tag: str) -> str:
    resp = client.get(f"/ownednoteview/list/?_flt_0_title={tag}&psize_OwnedNoteView=100")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def option_texts(html: str, field: str) -> set[str]:
    select = re.search(rf'<select[^>]*\bname="{field}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no <select name={field}> in the form"
    return {re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<option[^>]*>(.*?)</option>", select.group(1), re.S)}


@pytest.fixture
def notes(app, uid):
    """Two notes of sales1 and one of sales2 sharing a unique title prefix (`tag`)."""
    tag = uid("SC")
    data = {"tag": tag, "own": [f"{tag}-s1a", f"{tag}-s1b"], "other": f"{tag}-s2a"}
    data["own_ids"] = [add_note(app, "sales1", t) for t in data["own"]]
    data["other_id"] = add_note(app, "sales2", data["other"])
    return data


# ------------------------------------------------------------------ pages


def test_list_shows_only_own_notes(as_user, notes):
    html = list_html(as_user("sales1"), notes["tag"])
    for title in notes["own"]:
        assert title in html
    assert notes["other"] not in html
    html2 = list_html(as_user("sales2"), notes["tag"])
    assert notes["other"] in html2
    assert not any(t in html2 for t in notes["own"])


def test_show_edit_delete_of_other_owner_is_404(app, as_user, notes):
    c = as_user("sales1")
    other = notes["other_id"]
    assert c.get(f"/ownednoteview/show/{other}").status_code == 404
    assert c.get(f"/ownednoteview/edit/{other}").status_code == 404
    resp = c.post(f"/ownednoteview/edit/{other}", data={"title": "hijacked"})
    assert resp.status_code == 404
    assert c.post(f"/ownednoteview/delete/{other}").status_code == 404
    assert load_note(app, other) == (notes["other"], user_id(app, "sales2"))
    # the same pages work on an own note, so the 404 above is the scope and not a broken page
    own = notes["own_ids"][0]
    assert c.get(f"/ownednoteview/show/{own}").status_code == 200
    assert c.get(f"/ownednoteview/edit/{own}").status_code == 200


def test_owner_can_edit_and_delete_own_note(app, as_user, notes):
    c = as_user("sales1")
    own_id = notes["own_ids"][0]
    new_title = notes["tag"] + "-renamed"
    resp = c.post(f"/ownednoteview/edit/{own_id}", data={"title": new_title})
    assert resp.status_code == 302
    assert load_note(app, own_id) == (new_title, user_id(app, "sales1"))
    resp = c.post(f"/ownednoteview/delete/{notes['own_ids'][1]}")
    assert resp.status_code == 302
    assert load_note(app, notes["own_ids"][1]) is None


def test_bulk_action_cannot_export_other_owners_rows(as_user, notes):
    c = as_user("sales1")
    # the other owner's id reaches the action exactly like an id that does not exist: no rows selected, no file
    for rowid in (notes["other_id"], 999999999):
        resp = c.post("/ownednoteview/action_post", data={"action": "export_selected", "rowid": [rowid]})
        assert resp.mimetype != XLSX
        assert resp.status_code == 302
    # an own id together with the other owner's: the file holds the own row only
    resp = c.post(
        "/ownednoteview/action_post",
        data={"action": "export_selected", "rowid": [notes["own_ids"][0], notes["other_id"]]},
    )
    assert xlsx_titles(resp) == {notes["own"][0]}


def test_single_row_action_of_other_owner_is_404(as_user, notes):
    c = as_user("sales1")
    assert c.post(f"/ownednoteview/action/export_selected/{notes['other_id']}").status_code == 404
    resp = c.post(f"/ownednoteview/action/export_selected/{notes['own_ids'][0]}")
    assert xlsx_titles(resp) == {notes["own"][0]}


def test_full_export_contains_only_own_rows(app, as_user, notes):
    rows = xlsx_rows(as_user("sales1").get("/ownednoteview/export_xlsx/"))
    titles = {str(r[0]) for r in rows[1:]}
    assert set(notes["own"]) <= titles
    assert notes["other"] not in titles
    # every exported row is sales1's (the owner column shows the same person on each row)
    owners = {r[1] for r in rows[1:]}
    assert len(owners) == 1
    # the filtered export applies the same scope
    resp = as_user("sales1").get(f"/ownednoteview/export_xlsx/?_flt_0_title={notes['tag']}")
    assert xlsx_titles(resp) == set(notes["own"])


def test_page_create_with_other_owner_is_stored_as_own(app, as_user, uid):
    title = uid("SC") + "-page"
    resp = as_user("sales1").post(
        "/ownednoteview/add", data={"title": title, "owner": str(user_id(app, "sales2")), "product": ""}
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert notes_titled(app, title) == [(title, user_id(app, "sales1"))]


def test_page_edit_cannot_hand_note_to_someone_else(app, as_user, notes):
    own_id = notes["own_ids"][0]
    resp = as_user("sales1").post(
        f"/ownednoteview/edit/{own_id}",
        data={"title": notes["own"][0], "owner": str(user_id(app, "sales2")), "product": ""},
    )
    assert resp.status_code == 302
    assert load_note(app, own_id) == (notes["own"][0], user_id(app, "sales1"))


def test_noteref_dropdown_offers_only_own_notes(as_user, notes):
    html = as_user("sales1").get("/noterefview/add").get_data(as_text=True)
    offered = option_texts(html, "note")
    assert set(notes["own"]) <= offered
    assert notes["other"] not in offered
    admin_offered = option_texts(as_user("admin").get("/noterefview/add").get_data(as_text=True), "note")
    assert {*notes["own"], notes["other"]} <= admin_offered


def test_noteref_cannot_point_at_other_owners_note(app, as_user, uid, notes):
    from app.extensions import db

    label = uid("REF")
    as_user("sales1").post("/noterefview/add", data={"label": label, "note": str(notes["other_id"])})
    with app.app_context():
        refs = db.session.query(NoteRef).filter(NoteRef.label == label).all()
        assert all(r.note_id != notes["other_id"] for r in refs)
        db.session.remove()


@pytest.mark.parametrize("username", ["manager", "admin"])
def test_managers_see_all_notes(username, as_user, api_token, notes):
    c = as_user(username)
    everything = {*notes["own"], notes["other"]}
    html = list_html(c, notes["tag"])
    assert all(t in html for t in everything)
    resp = c.get(f"/ownednoteview/export_xlsx/?_flt_0_title={notes['tag']}")
    assert xlsx_titles(resp) == everything
    resp = c.post(
        "/ownednoteview/action_post",
        data={"action": "export_selected", "rowid": [notes["own_ids"][0], notes["other_id"]]},
    )
    assert xlsx_titles(resp) == {notes["own"][0], notes["other"]}
    assert c.get(f"/ownednoteview/show/{notes['other_id']}").status_code == 200
    headers = api_token(username)
    assert api_titles(c, headers, notes["tag"]) == everything
    assert c.get(f"{API}{notes['other_id']}", headers=headers).status_code == 200


# ------------------------------------------------------------------ REST API


def test_api_list_and_get_only_own(client, api_token, notes):
    headers = api_token("sales1")
    assert api_titles(client, headers, notes["tag"]) == set(notes["own"])
    resp = client.get(f"{API}{notes['own_ids'][0]}", headers=headers)
    assert resp.status_code == 200 and resp.json["result"]["title"] == notes["own"][0]
    resp = client.get(f"{API}{notes['other_id']}", headers=headers)
    assert resp.status_code == 404
    assert resp.json.get("message")


def test_api_put_and_delete_of_other_owner_is_404(app, client, api_token, notes):
    headers = api_token("sales1")
    other = notes["other_id"]
    resp = client.put(f"{API}{other}", json={"title": "hijacked"}, headers=headers)
    assert resp.status_code == 404
    resp = client.delete(f"{API}{other}", headers=headers)
    assert resp.status_code == 404
    assert load_note(app, other) == (notes["other"], user_id(app, "sales2"))


def test_api_create_is_owned_by_creator(app, client, api_token, uid):
    title = uid("SC") + "-api"
    resp = client.post(API, json={"title": title}, headers=api_token("sales2"))
    assert resp.status_code == 201, resp.data
    assert notes_titled(app, title) == [(title, user_id(app, "sales2"))]
    resp = client.get(f"{API}{resp.json['id']}", headers=api_token("sales1"))
    assert resp.status_code == 404


@pytest.mark.sqlite_only(
    "the owner field is not among the API's add columns: the schema refuses it in Python (422) before any SQL runs"
)
@pytest.mark.parametrize("owner_field", ["owner", "owner_id"])
def test_api_create_with_other_owner_is_never_stored_for_them(app, client, api_token, uid, owner_field):
    title = uid("SC") + "-apiown"
    resp = client.post(API, json={"title": title, owner_field: user_id(app, "sales2")}, headers=api_token("sales1"))
    stored = notes_titled(app, title)
    # the field is unknown to the add schema ("This field cannot be set."): a validation error, nothing stored
    assert resp.status_code == 422, resp.data
    assert stored == []


def test_api_put_cannot_change_owner(app, client, api_token, notes):
    own_id = notes["own_ids"][0]
    client.put(
        f"{API}{own_id}", json={"title": notes["own"][0], "owner": user_id(app, "sales2")}, headers=api_token("sales1")
    )
    assert load_note(app, own_id) == (notes["own"][0], user_id(app, "sales1"))


# ------------------------------------------------------------------ no permission


@pytest.mark.sqlite_only(
    "the purchaser's 403 is FAB's permission check in Python from the role tables, before any scoped query"
)
@pytest.mark.parametrize(
    "url", ["/ownednoteview/list/", "/ownednoteview/add", "/ownednoteview/export_xlsx/", "/noterefview/add"]
)
def test_purchaser_gets_403_on_pages(as_user, url):
    assert as_user("purchaser").get(url).status_code == 403


@pytest.mark.sqlite_only(
    "the purchaser's 403 is FAB's permission check in Python from the role tables, before any scoped query"
)
def test_purchaser_gets_403_on_page_posts(app, as_user, notes):
    c = as_user("purchaser")
    other = notes["other_id"]
    assert c.get(f"/ownednoteview/show/{other}").status_code == 403
    assert c.post(f"/ownednoteview/delete/{other}").status_code == 403
    resp = c.post("/ownednoteview/action_post", data={"action": "export_selected", "rowid": [other]})
    assert resp.status_code == 403
    assert load_note(app, other) == (notes["other"], user_id(app, "sales2"))


@pytest.mark.sqlite_only(
    "the purchaser's 403 is FAB's permission check in Python from the role tables, before any scoped query"
)
def test_purchaser_gets_403_on_api(app, client, api_token, notes, uid):
    headers = api_token("purchaser")
    other = notes["other_id"]
    assert client.get(API, headers=headers).status_code == 403
    assert client.get(f"{API}{other}", headers=headers).status_code == 403
    assert client.put(f"{API}{other}", json={"title": "x"}, headers=headers).status_code == 403
    assert client.delete(f"{API}{other}", headers=headers).status_code == 403
    title = uid("SC")
    assert client.post(API, json={"title": title}, headers=headers).status_code == 403
    assert notes_titled(app, title) == []
    assert load_note(app, other) == (notes["other"], user_id(app, "sales2"))
