"""Excel import fed what users (and attackers) really send: random and damaged bytes, zip bombs, a 2M-row sheet,
formulas, merged cells, dates as text, full-width digits, Chinese and English headers, empty sheets, an .xls or a
csv renamed .xlsx. Every time: no 5xx, the page says what is wrong in the catalog's words (Chinese by default) or
the import succeeds when the input is legitimate, and a refused file writes nothing — neither the target table nor
the audit trail (the import job itself is recorded by design: app/core/imports.py).
"""

import html as html_lib
import io
import re
import resource
import struct
import zipfile
import zlib
from decimal import Decimal

import hypothesis
import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, strategies as st

from app.base_data.models import Product, Unit
from app.crm.models import EndCustomer
from tests.support.users import user_id

pytestmark = pytest.mark.every_database(
    "a file that passes is imported: rows are bulk-written (COPY, multi-row INSERT) in one transaction, amounts go "
    "to NUMERIC columns, and duplicates, overflow and U+0000 meet each database's own refusals"
)

PRODUCTS = "/productview/import_xlsx/"
CUSTOMERS = "/endcustomerview/import_xlsx/"  # the bulk write path (BulkWriter)
UNITS = "/unitview/import_xlsx/"


# ---------------------------------------------------------------- helpers


def counts(db) -> dict:
    """Rows of every table an import here could write, and of the audit trail."""
    from app.core.audit import AuditLog
    from app.opening.models import OpeningBalance

    db.session.rollback()  # see what the request committed
    return {m.__name__: db.session.query(m).count() for m in (Product, EndCustomer, Unit, OpeningBalance, AuditLog)}


def upload(client, data: bytes, name="data.xlsx", url=PRODUCTS, **form):
    return client.post(url, data={"file": (io.BytesIO(data), name), **form}, content_type="multipart/form-data")


def page_text(resp) -> str:
    return html_lib.unescape(resp.get_data(as_text=True))


def catalog(app, msgid: str, **params) -> str:
    """The message as the page shows it in the default locale (Chinese once the catalog has the msgid)."""
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(msgid, **params)


def refused(app, db, resp, before: dict, msgid: str | None = None, **params) -> str:
    """A refusal: a page (no 5xx, no redirect) with a message, and nothing written; returns the message."""
    assert resp.status_code == 200, (resp.status_code, resp.data[:300])
    text = page_text(resp)
    found = re.search(r'id="import-message">(.*?)</div>', text, re.S)
    assert found, text[-2000:]
    message = re.sub(r"<[^>]+>", "", found.group(1)).strip()
    assert message
    if msgid is not None:
        assert catalog(app, msgid, **params) in message, message
    assert counts(db) == before
    return message


def sheet(rows, merge: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    if merge:
        book.active.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def raw_zip(members) -> bytes:
    """A zip written by hand from (name, deflated bytes, crc, declared size): the declared size may lie."""
    out, central = io.BytesIO(), []
    for name, packed, crc, size in members:
        encoded, offset = name.encode(), out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(packed), size, len(encoded), 0))
        out.write(encoded + packed)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(packed),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    directory, start = b"".join(central), out.tell()
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), start, 0))
    return out.getvalue()


def repeated_deflate(head: bytes, body: bytes, times: int, tail: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of head + body × times + tail, compressing `body` once: fully flushed blocks can be repeated.
    Returns (deflated, crc, inflated size)."""

    def flushed(data: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)

    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(body, crc)
    crc = zlib.crc32(tail, crc)
    packed = flushed(head) + flushed(body) * times + last.compress(tail) + last.flush()
    return packed, crc, len(head) + len(body) * times + len(tail)


SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>Model No.</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>Product Name</t></is></c></row>'
)
SHEET_TAIL = b"</sheetData></worksheet>"


def workbook_with_sheet(head: bytes, body: bytes, times: int, tail: bytes, declared: int | None = None) -> bytes:
    """A real xlsx (openpyxl's parts) whose first sheet's XML is streamed from repeated blocks; `declared` replaces
    the true unpacked size of that sheet in the archive's headers."""
    buf = io.BytesIO()
    openpyxl.Workbook().save(buf)
    members = []
    with zipfile.ZipFile(buf) as source:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                data = source.read(info.filename)
                members.append((info.filename, deflate(data), zlib.crc32(data), len(data)))
    packed, crc, size = repeated_deflate(head, body, times, tail)
    members.append(("xl/worksheets/sheet1.xml", packed, crc, size if declared is None else declared))
    return raw_zip(members)


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"{key}:\s+(\d+)", status.read()).group(1))


def peak_growth_mb(call) -> float:
    """Peak resident memory of this process during `call`, above what it held before (Linux: the high-water mark
    is reset first; elsewhere ru_maxrss, which only shows growth past the earlier peak)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        before = _status_kb("VmRSS")
        call()
        return (_status_kb("VmHWM") - before) / 1024
    except OSError:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        call()
        return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024


@pytest.fixture
def admin(as_user):
    return as_user("admin")


@pytest.fixture
def row_limit(app):
    """A lowered EXCEL_IMPORT_MAX_ROWS: the same check as the default 200,000, on small files."""
    old = app.config["EXCEL_IMPORT_MAX_ROWS"]
    app.config["EXCEL_IMPORT_MAX_ROWS"] = 5
    yield 5
    app.config["EXCEL_IMPORT_MAX_ROWS"] = old


# ---------------------------------------------------------------- bytes that are no workbook


def test_random_damaged_and_truncated_bytes_are_refused(app, db, admin, uid):
    """Hypothesis-generated: random bytes, random bytes behind a zip signature, a real workbook with bytes
    overwritten, and the same workbook cut short. A mutation may leave a readable file, which then imports."""
    valid = sheet([["型号", "产品名称"], [uid("FZ"), "模糊"]])

    def mutate(changes):
        data = bytearray(valid)
        for position, value in changes:
            data[position % len(data)] = value
        return bytes(data)

    files = st.one_of(
        st.binary(max_size=4096),
        st.binary(max_size=4096).map(lambda b: b"PK\x03\x04" + b),
        st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=30).map(mutate),
        st.integers(1, len(valid) - 1).map(lambda n: valid[:n]),
    )
    outcomes = {"refused": 0, "imported": 0}

    @hypothesis.settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(data=files)
    def run(data):
        before = counts(db)
        resp = upload(admin, data)
        assert resp.status_code < 500
        if resp.status_code == 302:  # the damage missed what is read: a legitimate file
            outcomes["imported"] += 1
            return
        refused(app, db, resp, before)
        outcomes["refused"] += 1

    run()
    assert outcomes["refused"] >= 40, outcomes


@pytest.mark.sqlite_only(
    "a cut-short zip is refused in Python while it is unpacked, before any row is read; only the job is recorded"
)
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_a_truncated_workbook_is_damaged(app, db, admin, uid, fraction):
    data = sheet([["型号", "产品名称"]] + [[uid("TR"), "截断"] for _ in range(50)])
    before = counts(db)
    resp = upload(admin, data[: int(len(data) * fraction)])
    refused(app, db, resp, before, "The file is damaged and cannot be read.")


@pytest.mark.sqlite_only(
    "empty, header-only, .xls and csv files are refused in Python while they are opened; no row reaches the database"
)
@pytest.mark.parametrize(
    "name,data,msgid",
    [
        ("empty.xlsx", sheet([]), "The file is empty."),
        ("header.xlsx", sheet([["型号", "产品名称"]]), "The file has no data rows."),
        # the signature of an OLE2 compound file, as every Excel 97-2003 workbook begins
        (
            "old.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088),
            "This is an old Excel file (.xls). Open it in Excel, save it as .xlsx and upload that file.",
        ),
        (
            "data.xlsx",
            "型号,产品名称\nA-1,交换机\n".encode(),
            "This is not an Excel .xlsx file. Please use the downloaded template.",
        ),
        (
            "data.csv",
            "型号,产品名称\nA-1,交换机\n".encode("gbk"),
            "This is not an Excel .xlsx file. Please use the downloaded template.",
        ),
    ],
)
def test_empty_header_only_xls_and_csv(app, db, admin, name, data, msgid):
    before = counts(db)
    refused(app, db, upload(admin, data, name), before, msgid)


# ---------------------------------------------------------------- size: zip bombs and millions of rows


@pytest.mark.sqlite_only(
    "the unpacked-size and CRC checks refuse the bomb in Python while the zip is read; no row reaches the database"
)
@pytest.mark.parametrize("declared", ["true size", "lied"])
def test_zip_bomb_is_refused_in_bounded_memory(app, db, admin, declared):
    """About 1 MB on the wire, 1 GiB once its sheet is unpacked (twice EXCEL_IMPORT_MAX_UNZIPPED_BYTES). With its
    true size in the headers the size check refuses it unread; with a small size declared, zipfile and calamine
    stop where the declared size ends (CRC mismatch). Either way memory stays far below the unpacked size."""
    body = b"<row><c><v>1</v></c></row>" * 40330  # ~1 MiB
    times = 1024
    inflated = len(SHEET_HEAD) + len(body) * times + len(SHEET_TAIL)
    assert inflated > 2 * app.config["EXCEL_IMPORT_MAX_UNZIPPED_BYTES"]
    data = workbook_with_sheet(SHEET_HEAD, body, times, SHEET_TAIL, declared=None if declared == "true size" else 4096)
    assert len(data) < 4 * 1024 * 1024
    before = counts(db)
    answer = {}
    growth = peak_growth_mb(lambda: answer.setdefault("resp", upload(admin, data)))
    msgid = (
        "The file is too large once unpacked." if declared == "true size" else "The file is damaged and cannot be read."
    )
    refused(app, db, answer["resp"], before, msgid)
    assert growth < 64, f"{growth:.0f} MB for a file of {inflated / 2**20:.0f} MiB unpacked"


@pytest.mark.sqlite_only(
    "the row limit refuses the sheet in Python while its XML is streamed, before calamine or any row SQL"
)
@pytest.mark.parametrize("url", [PRODUCTS, CUSTOMERS])
def test_two_million_rows_are_refused_in_bounded_memory(app, db, admin, url):
    """A real 2,000,000-row sheet (the sheet XML streamed from repeated blocks: xlsxwriter's constant_memory needs
    about a minute for it on this machine). Within the unpacked size limit, it is refused by the row limit before
    calamine loads it (which took ~400 MB for this file before the streaming row count in excel.read_rows)."""
    header = b'<c r="A1" t="inlineStr"><is><t>Model No.</t></is></c>'
    head = SHEET_HEAD if url == PRODUCTS else SHEET_HEAD.replace(header, header.replace(b"Model No.", b"Customer Name"))
    body = b'<row><c t="inlineStr"><is><t>M-1</t></is></c><c t="inlineStr"><is><t>x</t></is></c></row>' * 10000
    data = workbook_with_sheet(head, body, 200, SHEET_TAIL)
    limit = app.config["EXCEL_IMPORT_MAX_ROWS"]
    assert limit < 2_000_000
    before = counts(db)
    answer = {}
    growth = peak_growth_mb(lambda: answer.setdefault("resp", upload(admin, data, url=url)))
    refused(
        app, db, answer["resp"], before, "The file has more than %(max)s rows; split it into smaller files.", max=limit
    )
    assert growth < 64, f"{growth:.0f} MB"


FAR_CELLS = {
    # two cells: calamine's grid from A1 to XFD100000 asked for 52 GB and aborted the process
    "two far cells": (b'<row r="100000"><c r="XFD100000"><v>1</v></c></row>', "XFD100000"),
    # cells without references are placed one after the other: a row of 16,384 makes the grid that wide
    "cells without references": (
        b'<row r="2">' + b"<c><v>1</v></c>" * 16384 + b'</row><row r="150000"><c r="A150000"><v>1</v></c></row>',
        "XFD150000",
    ),
    # a ">" inside a quoted attribute and the reference in single quotes, later in the tag
    "quoted attributes": (b'<row r="2"><c foo=">" r=\'XFD99999\'><v>1</v></c></row>', "XFD99999"),
    # prefixed tags (calamine reads tags by their local name)
    "prefixed tags": (b'<x:row r="2"><x:c r="XFD50000"><x:v>1</x:v></x:c></x:row>', "XFD50000"),
    # a row number of 5,000 digits (int() refuses to read it)
    "absurd row number": (b'<row r="2"><c r="B' + b"9" * 5000 + b'"><v>1</v></c></row>', "B1000000000"),
}


@pytest.mark.sqlite_only(
    "the extent check refuses the far cells in Python while the sheet's XML is streamed; no row reaches the database"
)
@pytest.mark.parametrize("case", FAR_CELLS)
def test_far_cells_are_refused_in_bounded_memory(app, db, admin, case):
    """A few hundred bytes whose cells lie far apart: refused by the extent check before calamine builds its dense
    grid (which needs 32 bytes for every cell between the first and the last)."""
    body, cell = FAR_CELLS[case]
    data = workbook_with_sheet(SHEET_HEAD, body, 1, SHEET_TAIL)
    before = counts(db)
    answer = {}
    growth = peak_growth_mb(lambda: answer.setdefault("resp", upload(admin, data)))
    refused(
        app,
        db,
        answer["resp"],
        before,
        "The sheet reaches cell %(cell)s: too large to import. Delete the rows and columns after the data (or split "
        "the file) and upload again.",
        cell=cell,
    )
    assert growth < 64, f"{growth:.0f} MB"


@pytest.mark.sqlite_only(
    "the extent check and the header mapping are Python: the unknown column is refused before any row is written"
)
def test_wide_sheet_within_the_budget_is_read(app, db, admin, uid):
    """Values past column Z take the exact path and pass when the grid is small: here the header is then judged
    (an unknown column), not the size."""
    before = counts(db)
    header = ["型号", "产品名称"] + [f"列{i}" for i in range(30)]
    message = refused(app, db, upload(admin, sheet([header, [uid("W"), "x"] + ["y"] * 30])), before)
    assert "列29" in message


@pytest.mark.parametrize("url", [PRODUCTS, CUSTOMERS])
def test_row_limit_boundary_and_formatted_empty_rows(app, db, admin, uid, row_limit, url):
    header = ["型号", "产品名称"] if url == PRODUCTS else ["客户名称", "电话"]
    model = Product if url == PRODUCTS else EndCustomer
    before = counts(db)
    over = sheet([header] + [[uid("LIM"), "x"] for _ in range(row_limit + 1)])
    refused(
        app,
        db,
        upload(admin, over, url=url),
        before,
        "The file has more than %(max)s rows; split it into smaller files.",
        max=row_limit,
    )
    # exactly the limit, followed by many rows that only carry formatting: imported
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(header)
    names = [uid("LIM") for _ in range(row_limit)]
    for name in names:
        ws.append([name, "x"])
    for r in range(row_limit + 2, row_limit + 60):
        ws.cell(r, 1).font = openpyxl.styles.Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    assert zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").count(b"<row") > 50
    assert upload(admin, out.getvalue(), url=url).status_code == 302
    db.session.rollback()
    key = model.model_no if model is Product else model.name
    assert db.session.query(model).filter(key.in_(names)).count() == row_limit


# ---------------------------------------------------------------- cell contents


def test_formulas_with_saved_results_import_their_values(app, db, admin, uid):
    """Excel saves each formula's result with it: that value is what the user sees, and what is imported. Text that
    merely looks like a formula stays text."""
    model_no, trap = uid("FX"), uid("FXT")
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"strings_to_formulas": False})
    ws = book.add_worksheet()
    ws.write_row(0, 0, ["型号", "产品名称", "销售价"])
    ws.write_string(1, 0, model_no)
    ws.write_formula(1, 1, '=HYPERLINK("http://example.com","点我")', None, "点我")
    ws.write_formula(1, 2, "=1+1", None, 2)
    ws.write_string(2, 0, trap)
    ws.write_string(2, 1, "=cmd|' /C calc'!A0")
    book.close()
    assert upload(admin, out.getvalue()).status_code == 302
    db.session.rollback()
    product = db.session.query(Product).filter_by(model_no=model_no).one()
    assert product.name == "点我" and str(product.sale_price) == "2.00"
    assert db.session.query(Product).filter_by(model_no=trap).one().name == "=cmd|' /C calc'!A0"


@pytest.mark.sqlite_only(
    "formulas without results and error values are refused in Python while the cells are read; no row is written"
)
@pytest.mark.parametrize("url", [PRODUCTS, CUSTOMERS])
def test_formulas_without_results_and_error_values_are_refused(app, db, admin, uid, url):
    """openpyxl (like other programs) writes formulas without results, which calamine reads as empty cells; an
    error result (#DIV/0!) reads as empty too. Importing blanks in their place would lose data silently."""
    header = ["型号", "产品名称", "销售价"] if url == PRODUCTS else ["客户名称", "电话", "信用额度"]
    before = counts(db)
    refused(
        app,
        db,
        upload(admin, sheet([header, [uid("NF"), "x", "=1+1"]]), url=url),
        before,
        "Some cells hold a formula without a calculated result (the file was not saved by Excel). "
        "Open it in Excel, save it and upload it again.",
    )
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    ws = book.add_worksheet()
    ws.write_row(0, 0, header)
    ws.write_row(1, 0, [uid("ER"), "x"])
    ws.write_formula(1, 2, "=1/0", None, "#DIV/0!")
    book.close()
    refused(
        app,
        db,
        upload(admin, out.getvalue(), url=url),
        before,
        "Some cells show an error (#DIV/0!, #N/A …) instead of a value; correct them and upload again.",
    )


@pytest.mark.sqlite_only(
    "merged cells are refused in Python while the sheet is read, before any row is converted or written"
)
def test_merged_cells_are_refused(app, db, admin, uid):
    """A merged cell keeps its value in the first cell only: the rows below would import it as empty."""
    before = counts(db)
    data = sheet([["型号", "产品名称"], [uid("MG"), "合并"], [None, "合并2"]], merge="A2:A3")
    refused(
        app,
        db,
        upload(admin, data),
        before,
        "The sheet has merged cells (%(cells)s); unmerge them and fill in every cell, then upload again.",
        cells="A2:A3",
    )


def test_dates_written_as_text(app, db, admin, uid):
    """Opening receivables carry a due date: 2026/1/5, 2026年1月5日 and full-width ２０２６．１．５ are that date;
    an impossible date is refused with the row and column named, and nothing is written."""
    owner = user_id(app, "sales1")
    customers = [EndCustomer(name=uid("期初客户"), owner_id=owner, in_pool=False) for _ in range(4)]
    db.session.add_all(customers)
    db.session.commit()
    names = [c.name for c in customers]
    form = {"as_of": "2026-01-01", "confirm": "1"}
    url = "/openingbalanceview/import/receivable"
    header = ["Customer", "Amount", "Due Date"]
    bad = sheet([header, [names[3], "100", "2026/13/45"]])
    before = counts(db)
    resp = upload(admin, bad, url=url, **form)
    message = refused(app, db, resp, before)
    assert catalog(app, "%(n)s problems found in %(total)s rows; nothing was imported.", n=1, total=1) in message
    assert "2026/13/45" in page_text(resp)
    good = sheet(
        [
            header,
            [names[0], "100", "2026/1/5"],
            [names[1], "200", "2026年1月5日"],
            [names[2], "300", "２０２６．１．５"],
        ]
    )
    assert upload(admin, good, url=url, **form).status_code == 302
    db.session.rollback()
    from app.sales.models import SalesOrder

    orders = db.session.query(SalesOrder).filter(SalesOrder.end_customer_id.in_([c.id for c in customers[:3]])).all()
    assert len(orders) == 3 and {str(o.due_date) for o in orders} == {"2026-01-05"}


def test_full_width_digits_are_numbers(app, db, admin, uid):
    """１２３ typed with a Chinese input method is the number 123, in amounts (with ￥ and ，) and quantities alike."""
    model_no = uid("QW")
    data = sheet(
        [
            ["型号", "产品名称", "销售价", "采购价", "安全库存下限"],
            [model_no, "全角", "１２３.５０", "￥１，０００．００", "１２"],
        ]
    )
    assert upload(admin, data).status_code == 302
    db.session.rollback()
    product = db.session.query(Product).filter_by(model_no=model_no).one()
    assert (str(product.sale_price), str(product.purchase_price), product.safety_min) == ("123.50", "1000.00", 12)
    unit = uid("单位")
    assert upload(admin, sheet([["名称", "排序"], [unit, "１２３"]]), url=UNITS).status_code == 302
    db.session.rollback()
    assert db.session.query(Unit).filter_by(name=unit).one().sort_order == 123


@pytest.mark.parametrize(
    "header",
    [
        ["型号", "产品名称", "销售价"],
        ["Model No.", "Product Name", "Sale Price"],
        ["型号", "Product Name", "销售价"],  # mixed
        [" 型 号 ", "product name", "销售价*"],  # spaces, case and the template's required mark
        ["ｍｏｄｅｌ ｎｏ．", "产品名称", "Ｓａｌｅ Ｐｒｉｃｅ"],  # full-width letters
    ],
)
def test_chinese_english_and_mixed_headers(app, db, admin, uid, header):
    model_no = uid("HD")
    assert upload(admin, sheet([header, [model_no, "表头", "9.9"]])).status_code == 302
    db.session.rollback()
    assert str(db.session.query(Product).filter_by(model_no=model_no).one().sale_price) == "9.90"


@pytest.mark.sqlite_only(
    "the unknown header is refused in Python when the columns are mapped, before any row is converted or written"
)
def test_unknown_header_is_refused(app, db, admin, uid):
    before = counts(db)
    message = refused(app, db, upload(admin, sheet([["型号", "产品名称", "颜色"], [uid("UH"), "x", "红"]])), before)
    assert "颜色" in message


def test_a_customer_saved_meanwhile_refuses_the_import_with_a_message(app, db, admin, uid, monkeypatch):
    """A race: after the file was checked against the customers in the database, another user saves one of its
    customers (same name, same region) before the rows are written. The database refuses the duplicate; the page
    says someone else changed the same data, and nothing of the file is written (not a 500)."""
    from sqlalchemy.orm import Session

    from app.base_data.models import Region
    from app.crm import services

    with app.app_context():
        some = db.session.query(Region).order_by(Region.id).first()
        region = db.session.query(Region).filter(Region.name == some.name).order_by(Region.level.desc()).first()
        region_id, region_name = region.id, region.name
    marker = uid("RACE")
    data = sheet([["客户名称", "地区"]] + [[f"{marker}-{i}", region_name] for i in range(30)])
    checked = services.existing_customers

    def then_someone_saves(model, names):
        found = checked(model, names)
        with Session(db.engine) as other:  # another user's request, committed in between
            other.add(EndCustomer(name=f"{marker}-7", region_id=region_id, in_pool=True))
            other.commit()
        return found

    monkeypatch.setattr(services, "existing_customers", then_someone_saves)
    resp = upload(admin, data, url="/endpoolview/import_xlsx/")
    assert resp.status_code == 200, resp.status_code
    message = re.search(r'id="import-message">(.*?)</div>', page_text(resp), re.S)
    assert message and catalog(app, "Someone else was changing the same data; try again.") in message.group(1)
    db.session.rollback()
    saved = db.session.query(EndCustomer.name).filter(EndCustomer.name.like(f"{marker}-%")).all()
    assert [name for (name,) in saved] == [f"{marker}-7"]  # only the other user's


def test_nul_character_in_a_cell_is_a_row_error(app, db, admin, uid):
    """Excel writes U+0000 as _x0000_ and calamine reads it back: the cell is reported (row and column), nothing is
    written — on PostgreSQL the customers' import failed with a 500 (its text cannot hold the character)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    ws = book.add_worksheet()
    ws.write_row(0, 0, ["客户名称", "备注"])
    ws.write_row(1, 0, [uid("好"), "正常"])
    ws.write_row(2, 0, [uid("NUL") + "a\x00b", "正常"])
    ws.write_row(3, 0, [uid("好"), "备\x00注"])
    book.close()
    before = counts(db)
    resp = upload(admin, out.getvalue(), url=CUSTOMERS)
    assert resp.status_code == 200
    html = page_text(resp)
    assert "未导入任何数据" in html and "U+0000" in html
    job_id = int(html.split("/endcustomerview/import_report/")[1].split('"')[0])
    report = openpyxl.load_workbook(io.BytesIO(admin.get(f"/endcustomerview/import_report/{job_id}").data)).active
    problems = [(r[0], r[1]) for r in report.iter_rows(min_row=2, values_only=True)]
    assert problems == [(3, "客户名称"), (4, "备注")], problems
    assert all("U+0000" in r[2] for r in report.iter_rows(min_row=2, values_only=True))
    assert counts(db) == before


def test_an_existing_customer_late_in_a_large_file_is_reported(app, db, as_user, uid):
    """The rows before it are already on their way to the database (on PostgreSQL in an open COPY, which holds the
    connection) when row 6,002 turns out to name another salesperson's customer: the report still names that
    customer's owner (read from the database), every later problem is reported too, and nothing is written."""
    from app.core.imports import ImportJob

    marker = uid("LATE")
    taken = f"{marker}-taken"
    db.session.add(EndCustomer(name=taken, owner_id=user_id(app, "sales2"), in_pool=False, credit_limit=0, stars=3))
    db.session.commit()
    rows = [[f"{marker}-{i}", "1"] for i in range(6000)] + [[taken, "1"], [f"{marker}-x", "-5"]]
    before = counts(db)
    client = as_user("manager")  # sees everyone's customers: the message names the owner
    resp = upload(client, sheet([["客户名称", "信用额度"]] + rows), url=CUSTOMERS)
    assert resp.status_code == 200, resp.status_code
    db.session.rollback()
    job = db.session.query(ImportJob).order_by(ImportJob.id.desc()).first()
    assert job.status == "failed" and job.error_count == 2, (job.status, job.message)
    report = openpyxl.load_workbook(io.BytesIO(client.get(f"/endcustomerview/import_report/{job.id}").data)).active
    problems = list(report.iter_rows(min_row=2, values_only=True))
    assert [p[0] for p in problems] == [6002, 6003], problems
    assert taken in problems[0][2] and "业务员：测试sales2" in problems[0][2], problems[0]
    assert problems[1][1] == "信用额度", problems[1]
    assert counts(db) == before


def _sheet_zip(xml: str) -> zipfile.ZipFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", xml)
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


def _rows_xml(rows: list[tuple[str, list[str]]], cell='<c r="{ref}" t="inlineStr"><is><t>x</t></is></c>') -> str:
    body = "".join(f'<row r="{r}">' + "".join(cell.format(ref=ref) for ref in refs) + "</row>" for r, refs in rows)
    return f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>'


@pytest.mark.parametrize(
    "max_rows, rows, measured",
    [
        (150, [(r, [f"A{r}", f"E{r}"]) for r in range(1, 100)], False),  # the common file: quick path only
        (150, [(r, [f"A{r}", f"Z{r}"]) for r in range(1, 152)], False),  # rows with the limit's digits, all within
        (150, [(r, [f"A{r}"]) for r in range(1, 153)], True),  # row 152: past the limit (header + 150)
        (150, [(1, ["A1"]), (2, ["AA2"])], True),  # past column Z
        (150, [(1, ["A1"]), (2, ["A99999"])], True),  # a cell's own reference far below its row
        (150, [(1, ["A1"]), (99999, ["A99999"])], True),
        (5, [(r, [f"A{r}"]) for r in range(1, 7)], False),  # a limit below 10
        (5, [(r, [f"A{r}"]) for r in range(1, 8)], True),
    ],
)
def test_extent_check_reads_only_unusual_references_exactly(monkeypatch, max_rows, rows, measured):
    """The quick path of the check before calamine: a file in the usual form is never measured tag by tag; a
    reference past the row limit or column Z, or in any other form, is."""
    from app.core import excel

    calls = []
    monkeypatch.setattr(excel, "_measure_extent", lambda *a: calls.append(a))
    zf = _sheet_zip(_rows_xml(rows))
    excel._check_extent(zf, "xl/worksheets/sheet1.xml", max_rows)
    assert bool(calls) == measured


@pytest.mark.parametrize(
    "cell",
    [
        "<c r='{ref}'><v>1</v></c>",  # single quotes
        '<c  r="{ref}"><v>1</v></c>',  # two spaces
        '<c t="n" r="{ref}"><v>1</v></c>',  # the reference after another attribute
        "<c><v>1</v></c>",  # no reference: placed after the previous cell
        '<x:c r="{ref}"><x:v>1</x:v></x:c>',  # a prefixed tag
    ],
)
def test_extent_check_measures_cells_of_another_form(monkeypatch, cell):
    from app.core import excel

    calls = []
    monkeypatch.setattr(excel, "_measure_extent", lambda *a: calls.append(a))
    zf = _sheet_zip(_rows_xml([(1, ["A1"]), (2, ["A2"])], cell=cell))
    excel._check_extent(zf, "xl/worksheets/sheet1.xml", 150)
    assert calls


def test_blank_rows_in_the_middle_keep_the_reported_row_numbers(app, db, admin, uid):
    """Blank rows are skipped, yet a problem is reported at the row Excel shows (it was counted without them)."""
    from app.core.imports import ImportJob

    data = sheet([["客户名称", "信用额度"], [uid("好"), "1"], [None, None], ["", " "], [uid("坏"), "-5"]])
    resp = upload(admin, data, url=CUSTOMERS)
    assert resp.status_code == 200
    db.session.rollback()
    job = db.session.query(ImportJob).order_by(ImportJob.id.desc()).first()
    assert (job.status, job.total_rows, job.error_count) == ("failed", 2, 1), (job.status, job.message)
    report = openpyxl.load_workbook(io.BytesIO(admin.get(f"/endcustomerview/import_report/{job.id}").data)).active
    assert [r[:2] for r in report.iter_rows(min_row=2, values_only=True)] == [(5, "信用额度")]


def test_numbers_past_what_the_columns_hold_are_row_errors(app, db, admin, uid):
    """An amount past Numeric(14,2) or a whole number past 32 bits: PostgreSQL and MariaDB refused the write and the
    import ended in a 500. Now each is a row error naming the column; the largest that fit are imported."""
    from app.core.imports import ImportJob

    fits = uid("满")
    data = sheet(
        [
            ["客户名称", "信用额度", "星级"],
            [fits, "999999999999.99", "3"],
            [uid("超"), "1000000000000", "3"],
            [uid("超"), "-1E+15", "3"],
            [uid("超"), "1", "2147483648"],
        ]
    )
    before = counts(db)
    resp = upload(admin, data, url=CUSTOMERS)
    assert resp.status_code == 200
    db.session.rollback()
    job = db.session.query(ImportJob).order_by(ImportJob.id.desc()).first()
    assert job.status == "failed", (job.status, job.message)
    report = openpyxl.load_workbook(io.BytesIO(admin.get(f"/endcustomerview/import_report/{job.id}").data)).active
    problems = [r[:3] for r in report.iter_rows(min_row=2, values_only=True)]
    assert problems == [(3, "信用额度", "数字太大。"), (4, "信用额度", "数字太大。"), (5, "星级", "数字太大。")], (
        problems
    )
    assert counts(db) == before
    # the largest amount that fits goes in on every database
    assert upload(admin, sheet([["客户名称", "信用额度"], [fits, "999999999999.99"]]), url=CUSTOMERS).status_code == 302
    db.session.rollback()
    saved = db.session.query(EndCustomer).filter_by(name=fits).one()
    assert saved.credit_limit == Decimal("999999999999.99")


def test_a_price_past_the_column_is_a_row_error_in_the_product_import(app, db, admin, uid):
    """The same through an import that writes ORM objects (products), not the bulk writer."""
    before = counts(db)
    resp = upload(admin, sheet([["型号", "产品名称", "销售价"], [uid("P"), "大", "1000000000000"]]))
    refused_text = page_text(resp)
    assert resp.status_code == 200 and "数字太大" in refused_text
    assert counts(db) == before
