"""Excel export and import through the real pages, with real xlsx files read back."""

import io
from decimal import Decimal

import openpyxl
import pytest

from app.base_data.models import Product, Unit
from app.core import excel

pytestmark = pytest.mark.every_database(
    "exports are filtered and sorted in SQL and read NUMERIC prices back; imports bulk-write rows (COPY, multi-row "
    "INSERT) in one transaction and meet the database's NOT NULL, unique and text refusals"
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _book(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def _make_products(db, prefix, rows):
    for i, (name, price) in enumerate(rows):
        db.session.add(
            Product(
                model_no=f"{prefix}-{i}",
                name=name,
                sale_price=Decimal(price),
                purchase_price=Decimal("1.00"),
                floor_price=Decimal("0"),
            )
        )
    db.session.commit()


def test_export_applies_filters_and_order(db, as_user, uid):
    prefix = uid("EXP")
    _make_products(db, prefix, [(f"{prefix} 甲", "10.50"), (f"{prefix} 乙", "300.00"), (f"{prefix} 丙", "20.25")])
    client = as_user("admin")
    resp = client.get(
        f"/productview/export_xlsx/?_flt_0_model_no={prefix}&_oc_ProductView=sale_price&_od_ProductView=desc"
    )
    assert resp.status_code == 200 and resp.mimetype == XLSX
    ws = _book(resp.data).active
    header = [c.value for c in ws[1]]
    assert header[:3] == ["型号", "产品名称", "规格"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == [f"{prefix}-1", f"{prefix}-2", f"{prefix}-0"]
    price_col = header.index("销售价")
    assert [r[price_col] for r in rows] == [300.0, 20.25, 10.5]
    assert ws.cell(row=2, column=price_col + 1).data_type == "n"


def test_export_leaves_no_file_behind(db, as_user, uid):
    """The export is written to a temporary file without a name: nothing stays in the temp folder once sent, whatever
    the server does with close hooks (a file response's are never run; exports used to pile up there)."""
    import os
    import tempfile

    prefix = uid("TMP")
    _make_products(db, prefix, [(f"{prefix} 甲", "1.00")])
    client = as_user("admin")
    folder = tempfile.gettempdir()
    before = set(os.listdir(folder))
    resp = client.get(f"/productview/export_xlsx/?_flt_0_model_no={prefix}", buffered=False)
    assert resp.status_code == 200 and resp.content_length > 0
    data = b"".join(resp.response)
    assert len(data) == resp.content_length
    assert [r[0].value for r in _book(data).active.iter_rows(min_row=2)][:1] == [f"{prefix}-0"]
    assert not [name for name in set(os.listdir(folder)) - before if name.startswith("export-")]
    resp.close()


def test_export_selected_rows_only(db, as_user, uid):
    prefix = uid("SEL")
    _make_products(db, prefix, [("a", "1"), ("b", "2"), ("c", "3")])
    ids = [p.id for p in db.session.query(Product).filter(Product.model_no.like(f"{prefix}%")).order_by(Product.id)]
    resp = as_user("admin").post(
        "/productview/action_post", data={"action": "export_selected", "rowid": [str(ids[0]), str(ids[2])]}
    )
    assert resp.status_code == 200
    rows = [r[0].value for r in _book(resp.data).active.iter_rows(min_row=2)]
    assert rows == [f"{prefix}-0", f"{prefix}-2"]


@pytest.mark.sqlite_only(
    "the cell type is chosen in Python as the sheet is written; the name is plain text stored and read back as is"
)
@pytest.mark.parametrize("text", ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"])
def test_formula_like_text_is_written_as_text(db, as_user, uid, text):
    prefix = uid("FRM")
    _make_products(db, prefix, [(text, "1")])
    resp = as_user("admin").get(f"/productview/export_xlsx/?_flt_0_model_no={prefix}")
    cell = _book(resp.data).active.cell(row=2, column=2)
    assert cell.value == text and cell.data_type == "s"


def test_sheet_rollover_keeps_every_row_in_order():
    buf = io.BytesIO()
    cols = [excel.Column("n", "序号", excel.INT), excel.Column("t", "文本")]
    count = excel.write_xlsx(buf, "数据", cols, ((i, f"r{i}") for i in range(12)), max_rows=5)
    assert count == 12
    book = _book(buf.getvalue())
    assert book.sheetnames == ["数据", "数据2", "数据3"]
    seen = []
    for ws in book.worksheets:
        assert [c.value for c in ws[1]] == ["序号", "文本"]
        seen += [r[0].value for r in ws.iter_rows(min_row=2)]
    assert seen == list(range(12))


def _filled_template(client, rows):
    resp = client.get("/productview/import_template/")
    assert resp.status_code == 200
    book = _book(resp.data)
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    for row in rows:
        ws.append([row.get(h) for h in header])
    out = io.BytesIO()
    book.save(out)
    return header, out.getvalue()


def _upload(client, data, name="products.xlsx", url="/productview/import_xlsx/"):
    return client.post(url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_import_creates_all_rows_with_exact_amounts(db, as_user, uid):
    prefix = uid("IMP")
    client = as_user("admin")
    header, data = _filled_template(
        client,
        [
            {
                "型号": f"{prefix}-1",
                "产品名称": "千兆交换机",
                "计量单位": "台",
                "销售价": "1,234.50",
                "采购价": 1000,
                "红线价": "1100",
                "安全库存下限": "１２",
            },
            {"型号": f"{prefix}-2", "产品名称": "无线AP", "销售价": 99.9, "启用": "否"},
        ],
    )
    assert header[:2] == ["型号", "产品名称"]
    resp = _upload(client, data)
    assert resp.status_code == 302
    products = {p.model_no: p for p in db.session.query(Product).filter(Product.model_no.like(f"{prefix}%"))}
    assert products[f"{prefix}-1"].sale_price == Decimal("1234.50")
    assert products[f"{prefix}-1"].safety_min == Decimal("12")
    assert products[f"{prefix}-1"].unit.name == "台"
    assert products[f"{prefix}-2"].sale_price == Decimal("99.90") and products[f"{prefix}-2"].enabled is False


def test_one_bad_row_means_nothing_is_written_and_a_report(db, as_user, uid):
    prefix = uid("BAD")
    _make_products(db, prefix, [("已存在", "1")])
    client = as_user("admin")
    before = db.session.query(Product).count()
    _, data = _filled_template(
        client,
        [
            {"型号": f"{prefix}-ok", "产品名称": "好行", "销售价": "10"},
            {"型号": f"{prefix}-u", "产品名称": "单位错", "计量单位": "光年"},
            {"型号": f"{prefix}-n", "产品名称": "负价", "销售价": "-1"},
            {"型号": f"{prefix}-ok", "产品名称": "重复"},
            {"型号": f"{prefix}-0", "产品名称": "库里已有"},
            {"型号": f"{prefix}-r", "产品名称": "红线高", "销售价": "10", "红线价": "20"},
        ],
    )
    resp = _upload(client, data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    db.session.expire_all()
    assert db.session.query(Product).count() == before
    message = html.split('id="import-message"')[1][:300] if 'id="import-message"' in html else html[-3000:]
    assert "未导入任何数据" in message and "光年" in html, message
    job_id = int(html.split("/productview/import_report/")[1].split('"')[0])
    report = client.get(f"/productview/import_report/{job_id}")
    assert report.status_code == 200
    rows = [[c.value for c in r] for r in _book(report.data).active.iter_rows(min_row=2)]
    by_row = {r[0]: r for r in rows}
    assert set(by_row) == {3, 4, 5, 6, 7}
    assert by_row[3][1] == "计量单位" and by_row[4][1] == "销售价" and "重复" in by_row[5][2]
    assert "已存在" in by_row[6][2] and "红线价" in by_row[7][2]
    other = as_user("manager").get(f"/productview/import_report/{job_id}")
    assert other.status_code == 403, (other.status_code, other.headers, other.data[:300])


@pytest.mark.sqlite_only(
    "the file is refused in Python while it is opened, before any row is read or written; only the job is recorded"
)
@pytest.mark.parametrize(
    "name,data,message",
    [
        ("x.xlsx", b"", "文件是空的"),
        ("x.xlsx", b"\x00garbage" * 100, "不是 Excel .xlsx 文件"),
        ("x.xlsx", b"PK\x03\x04" + b"\x00" * 200, "文件已损坏"),
        ("x.csv", "型号,产品名称\nA,B\n".encode(), "不是 Excel .xlsx 文件"),
    ],
)
def test_broken_files_get_a_clear_message(db, as_user, name, data, message):
    before = db.session.query(Product).count()
    resp = _upload(as_user("admin"), data, name)
    assert resp.status_code == 200
    assert message in resp.get_data(as_text=True)
    assert db.session.query(Product).count() == before


def _sheet(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.sqlite_only(
    "headers, an empty sheet and the row limit are judged in Python while the file is read, before any row is "
    "written; only the job is recorded"
)
def test_wrong_headers_empty_sheet_and_too_many_rows(app, db, as_user, uid):
    client = as_user("admin")
    html = _upload(client, _sheet([["名字", "价格"], ["a", 1]])).get_data(as_text=True)
    assert "表头与模板不一致" in html and "型号" in html
    assert "文件中没有数据行" in _upload(client, _sheet([["型号", "产品名称"]])).get_data(as_text=True)
    old = app.config["EXCEL_IMPORT_MAX_ROWS"]
    app.config["EXCEL_IMPORT_MAX_ROWS"] = 3
    try:
        prefix = uid("MAX")
        rows = [["型号", "产品名称"]] + [[f"{prefix}-{i}", "x"] for i in range(4)]
        assert "超过 3 行" in _upload(client, _sheet(rows)).get_data(as_text=True)
        assert db.session.query(Product).filter(Product.model_no.like(f"{prefix}%")).count() == 0
    finally:
        app.config["EXCEL_IMPORT_MAX_ROWS"] = old


def test_dictionary_import_accepts_chinese_and_english_headers(db, as_user, uid):
    client = as_user("admin")
    a, b = uid("单位"), uid("unit")
    assert (
        _upload(client, _sheet([["名称", "排序", "启用"], [a, 5, "是"]]), url="/unitview/import_xlsx/").status_code
        == 302
    )
    assert (
        _upload(
            client, _sheet([["Name", "Sort Order", "Enabled"], [b, 6, "no"]]), url="/unitview/import_xlsx/"
        ).status_code
        == 302
    )
    units = {u.name: u for u in db.session.query(Unit).filter(Unit.name.in_([a, b]))}
    assert units[a].sort_order == 5 and units[a].enabled is True and units[b].enabled is False


@pytest.mark.sqlite_only(
    "the 403s are FAB's permission checks in Python from the role tables; the product export has no owner scope"
)
def test_salesperson_exports_but_cannot_import(as_user):
    client = as_user("sales1")
    assert client.get("/productview/export_xlsx/").status_code == 200
    assert client.get("/productview/import_xlsx/").status_code == 403
    assert client.get("/productview/import_template/").status_code == 403


def test_customer_import_in_bulk_refuses_duplicates_in_the_file_and_in_the_database(app, db, as_user, uid):
    """Customers are written in multi-row INSERTs after every row passed: a name twice in the file, or already in
    the database (in any letter case), refuses the whole file with the rows named; a clean file lands with one audit
    entry for the import."""
    from app.core.audit import AuditLog
    from app.crm.models import EndCustomer

    admin = as_user("admin")
    existing = EndCustomer(name=uid("Acme客户"), in_pool=True)
    db.session.add(existing)
    db.session.commit()
    a, b = uid("批量客户"), uid("批量客户")
    header = ["Customer Name", "Phone", "Credit Limit"]
    bad = _sheet([header, [a, "1", 100], [b, "2", 200], [a, "3", 300], [existing.name.upper(), "4", 0]])
    html = _upload(admin, bad, name="c.xlsx", url="/endpoolview/import_xlsx/").get_data(as_text=True)
    assert "import-errors" in html
    db.session.rollback()
    assert db.session.query(EndCustomer).filter(EndCustomer.name.in_([a, b])).count() == 0
    before = db.session.query(AuditLog).filter_by(action="import", table_name="end_customer").count()
    good = _sheet([header, [a, "1", 100], [b, "2", 200.5]])
    assert _upload(admin, good, name="c.xlsx", url="/endpoolview/import_xlsx/").status_code == 302
    db.session.rollback()
    rows = {c.name: c for c in db.session.query(EndCustomer).filter(EndCustomer.name.in_([a, b]))}
    assert set(rows) == {a, b} and rows[b].credit_limit == Decimal("200.50") and rows[a].in_pool
    assert rows[a].created_at is not None and rows[a].owner_id is None
    assert db.session.query(AuditLog).filter_by(action="import", table_name="end_customer").count() == before + 1


def test_bulk_writer_refused_insert_writes_nothing(app, db, uid):
    """The database refuses a row in the middle of a bulk import (on SQLite in the thread that inserts while the
    next rows are made, on PostgreSQL in the COPY): the error reaches the import, and after the rollback none of the
    rows before it is left."""
    marker = uid("BW")
    rows = [{"name": f"{marker}-{i}", "in_pool": True, "credit_limit": 0, "stars": 3} for i in range(25)]
    rows.insert(17, {"name": None, "in_pool": True, "credit_limit": 0, "stars": 3})  # name is NOT NULL
    _refused_leaves_nothing(db, rows, marker, chunk=5)  # several batches before and after the bad row


def _refused_leaves_nothing(db, rows: list[dict], marker: str, chunk: int) -> None:
    """The database refuses one of the rows: the writer raises it, and after the rollback no row is left."""
    from app.core.excel import BulkWriter
    from app.crm.models import EndCustomer

    writer = BulkWriter(db.session, EndCustomer, "end_customer")
    writer.CHUNK = chunk
    with pytest.raises(Exception):  # noqa: B017 — the driver's own error class differs by database
        for row in rows:
            writer.add(row)
        writer.close()
    writer.abort()
    db.session.rollback()
    assert db.session.query(EndCustomer).filter(EndCustomer.name.like(f"{marker}-%")).count() == 0


def test_bulk_writer_writes_every_value_as_given(app, db, uid):
    """What the writer sends (on PostgreSQL COPY text it formats itself a column at a time) reads back as the very
    values: separators and escapes inside texts, an empty text apart from NULL, mixed types in one column, dates,
    times, amounts, flags; a column holding a type it does not format goes through the driver."""
    import datetime as dt

    from app.core.excel import BulkWriter
    from app.crm.models import EndCustomer

    marker = uid("BWV")
    # MySQL's DATETIME keeps whole seconds (the schema's, whichever way the row is written)
    when = dt.datetime(2026, 3, 4, 5, 6, 7, 0 if db.engine.dialect.name == "mysql" else 890123)
    texts = ["a\tb", "c\\d", "e\nf", "g\rh", "\\N", "\\", "中文，全角", "", None, "x" * 255]
    rows = []
    for i, text in enumerate(texts):
        rows.append(
            {
                "name": f"{marker}-{i}",
                "phone": text if text is None or len(text) <= 32 else None,
                "address": text,
                "note": text,
                "in_pool": i % 2 == 0,
                "churned": i % 3 == 0,
                # int, Decimal and a float in one column: the last chunk's goes through the driver
                "credit_limit": [0, Decimal("12345678.9"), Decimal("-0.01"), 7][i % 4] if i < 8 else 2.5,
                "stars": 1 + i % 5,
                "assigned_at": None if i % 4 == 1 else when + dt.timedelta(days=i),
                "last_deal_at": dt.date(2026, 1, 31) + dt.timedelta(days=i),
            }
        )
    writer = BulkWriter(db.session, EndCustomer, "end_customer")
    writer.CHUNK = 4
    for row in rows:
        writer.add(dict(row))
    assert writer.close() == len(rows)
    db.session.commit()
    db.session.expire_all()
    saved = {c.name: c for c in db.session.query(EndCustomer).filter(EndCustomer.name.like(f"{marker}-%"))}
    assert len(saved) == len(rows)
    for row in rows:
        got = saved[row["name"]]
        for key, value in row.items():
            assert getattr(got, key) == value, (row["name"], key, getattr(got, key), value)


def test_bulk_writer_refuses_a_nul_character(app, db, uid):
    """PostgreSQL cannot store U+0000 in text: the write fails as a database error and nothing is left."""
    from app.core.excel import BulkWriter

    if db.engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL refuses U+0000 in text")
    marker = uid("BWN")
    rows = [{"name": f"{marker}-{i}", "note": "a\x00b" if i == 3 else "ok", "in_pool": True} for i in range(6)]
    _refused_leaves_nothing(db, rows, marker, chunk=BulkWriter.CHUNK)
