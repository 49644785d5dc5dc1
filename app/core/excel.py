"""Excel export and import, written once for every list and every importable model.

Export streams rows from the database into xlsxwriter's constant_memory mode (memory stays flat whatever the row
count), continues on a new sheet past Excel's row limit, and writes text as text so a cell beginning with = + - @
can never become a formula. Import reads with python-calamine, validates every row before writing anything, and
either writes all rows in one transaction or writes nothing and returns an error report (row, column, reason).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sqlite3
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import chain
from operator import itemgetter
from typing import IO
from xml.etree import ElementTree as ET

import xlsxwriter
from flask_babel import gettext, lazy_gettext as _

from app.core.errors import BusinessError
from app.core.formatting import to_local

EXCEL_MAX_ROWS = 1_048_576  # per sheet, header included
# what the columns hold (Integer; Money Numeric(14,2); Quantity Numeric(14,3)): a larger number in a file is a row
# error, not the database's refusal of the whole import (PostgreSQL and MariaDB raised it as a 500)
INT_MAX = 2**31 - 1
MONEY_LIMIT = Decimal(10) ** 12
QTY_LIMIT = Decimal(10) ** 11
TEXT, INT, DECIMAL, MONEY, QTY, DATE, DATETIME, BOOL = (
    "text",
    "int",
    "decimal",
    "money",
    "qty",
    "date",
    "datetime",
    "bool",
)


@dataclass
class Column:
    key: str  # attribute path on the model, dotted for relations ("category.name")
    label: object  # lazy string, shown as the header
    kind: str = TEXT
    getter: Callable | None = None  # overrides attribute lookup

    def value(self, obj):
        if self.getter is not None:
            return self.getter(obj)
        for part in self.key.split("."):
            if obj is None:
                return None
            obj = getattr(obj, part, None)
        return obj


# ---------------------------------------------------------------- export


def write_xlsx(target, sheet_name: str, columns: list[Column], rows: Iterable, max_rows: int = EXCEL_MAX_ROWS) -> int:
    """Write header + rows (model objects or tuples) to `target` (path or file object); return the data row count."""
    wb = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    header_fmt = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    formats = {
        DATE: wb.add_format({"num_format": "yyyy-mm-dd"}),
        DATETIME: wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        MONEY: wb.add_format({"num_format": "¥#,##0.00"}),
        DECIMAL: wb.add_format({"num_format": "#,##0.00"}),
        QTY: wb.add_format({"num_format": "#,##0.###"}),
        INT: wb.add_format({"num_format": "0"}),
    }
    headers = [str(c.label) for c in columns]
    yes, no = gettext("Yes"), gettext("No")
    writers = [_cell_writer(c.kind, formats, yes, no) for c in columns]
    sheet_index = 0
    ws = None
    row_in_sheet = max_rows  # forces the first sheet
    total = 0
    for item in rows:
        if row_in_sheet >= max_rows:
            sheet_index += 1
            title = sheet_name if sheet_index == 1 else f"{sheet_name}{sheet_index}"
            ws = wb.add_worksheet(_sheet_title(title))
            for ci, h in enumerate(headers):
                ws.write_string(0, ci, h, header_fmt)
                ws.set_column(ci, ci, max(10, min(40, len(h) * 2 + 4)))
            ws.freeze_panes(1, 0)
            row_in_sheet = 1
        values = item if isinstance(item, tuple) else tuple(c.value(item) for c in columns)
        for ci, value in enumerate(values):
            if value is not None and value != "":
                writers[ci](ws, row_in_sheet, ci, value)
        row_in_sheet += 1
        total += 1
    if ws is None:
        ws = wb.add_worksheet(_sheet_title(sheet_name))
        for ci, h in enumerate(headers):
            ws.write_string(0, ci, h, header_fmt)
    wb.close()
    return total


def _sheet_title(title: str) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31] or "Sheet1"


def _cell_writer(kind, formats, yes, no):
    """The writer of one column: the value's expected type first (one check per cell on a million rows), anything
    else through the general rule."""
    number_format = formats.get(kind)

    def general(ws, r, c, value):
        _write_cell(ws, r, c, kind, value, formats, yes, no)

    if kind == TEXT:

        def text(ws, r, c, value):
            if value.__class__ is str:
                ws.write_string(r, c, value)  # text stays text, so "=cmd|..." is never a formula
            else:
                general(ws, r, c, value)

        return text
    if kind in (MONEY, DECIMAL, QTY, INT):

        def number(ws, r, c, value):
            if value.__class__ in (Decimal, int, float):
                ws.write_number(r, c, float(value), number_format)
            else:
                general(ws, r, c, value)

        return number
    if kind == DATE:

        def day(ws, r, c, value):
            if value.__class__ is dt.date:
                ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), number_format)
            else:
                general(ws, r, c, value)

        return day
    return general


def _write_cell(ws, r, c, kind, value, formats, yes, no) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        ws.write_string(r, c, yes if value else no)
    elif isinstance(value, dt.datetime):
        ws.write_datetime(r, c, to_local(value).replace(tzinfo=None), formats[DATETIME])
    elif isinstance(value, dt.date):
        ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), formats[DATE])
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(r, c, float(value), formats.get(kind, formats[DECIMAL] if isinstance(value, Decimal) else None))
    else:
        # write_string: text stays text, so "=cmd|..." is never a formula
        ws.write_string(r, c, str(value))


def xlsx_tempfile(sheet_name: str, columns: list[Column], rows: Iterable) -> tuple[IO[bytes], int]:
    """Write to an anonymous temporary file and return it rewound, with the row count. The file has no name on disk:
    it is gone once closed, which the response does after sending it (a WSGI server never runs the close hooks of a
    file response, so an export written under a name stayed in the temp folder: 400 MB for a million orders)."""
    tmp = tempfile.TemporaryFile(prefix="export-", suffix=".xlsx")
    try:
        count = write_xlsx(tmp, sheet_name, columns, rows)
    except BaseException:
        tmp.close()
        raise
    tmp.seek(0)
    return tmp, count


def xlsx_bytes(sheet_name: str, columns: list[Column], rows: Iterable) -> bytes:
    buf = io.BytesIO()
    write_xlsx(buf, sheet_name, columns, rows)
    return buf.getvalue()


# ---------------------------------------------------------------- import


@dataclass
class Field:
    key: str
    label: object
    kind: str = TEXT
    required: bool = False
    max_length: int | None = None
    lookup: Callable[[str], object] | None = None  # text → related object (None if unknown)
    lookup_error: object = None
    help: object = ""
    english: str = ""  # English header accepted besides the Chinese one

    def headers(self) -> set[str]:
        names = {str(self.label), self.key, self.english}
        return {_norm_header(n) for n in names if n}


class RowError(Exception):
    def __init__(self, column, message):
        super().__init__(str(message))
        self.column = column
        self.message = message


@dataclass
class ImportSpec:
    name: str  # used for the template's file name
    title: object
    fields: list[Field]
    create: Callable[[dict], object]  # service function: validated dict → new model object (not yet added)
    unique_keys: list[str] = field(default_factory=list)
    exists: Callable[[str, object], bool] | None = None  # (key, value) → True if already in the database
    # called once before create(), with the `prepare_keys` values of every row whose those columns are valid: a
    # service reads what it checks rows against (existing names …) in a few queries instead of one per row
    prepare: Callable[[list[dict]], None] | None = None
    prepare_keys: tuple[str, ...] = ()
    # rows of one plain model (no collections, no numbering): create() returns each row as a dict of column values
    # (many-to-one relations may be given as objects) and a BulkWriter streams them into the table as they are
    # made, without an ORM object per row; the audit trail gets one entry for the import instead of one per row.
    # create() then reads nothing from the database but what prepare() and the lookups gave it (the rows being
    # written can hold the connection: PostgreSQL's COPY)
    bulk_model: type | None = None

    def field_by_key(self, key):
        return next(f for f in self.fields if f.key == key)


@dataclass
class ImportResult:
    created: int = 0
    total: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def template_bytes(spec: ImportSpec) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"strings_to_formulas": False})
    ws = wb.add_worksheet(_sheet_title(str(spec.title)))
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    req = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    text_fmt = wb.add_format({"num_format": "@"})
    for ci, f in enumerate(spec.fields):
        ws.write_string(0, ci, str(f.label), req if f.required else head)
        ws.set_column(ci, ci, max(12, len(str(f.label)) * 2 + 4), text_fmt if f.kind == TEXT else None)
    ws.freeze_panes(1, 0)
    notes = wb.add_worksheet(gettext("Instructions"))
    notes.write_row(0, 0, [gettext("Column"), gettext("Required"), gettext("Format"), gettext("Notes")], head)
    kinds = {
        TEXT: gettext("Text"),
        INT: gettext("Whole number"),
        DECIMAL: gettext("Number"),
        MONEY: gettext("Amount"),
        QTY: gettext("Quantity"),
        DATE: gettext("Date (YYYY-MM-DD)"),
        BOOL: gettext("Yes/No"),
        DATETIME: gettext("Date and time"),
    }
    for ri, f in enumerate(spec.fields, start=1):
        notes.write_row(ri, 0, [str(f.label), gettext("Yes") if f.required else "", kinds.get(f.kind, ""), str(f.help)])
    notes.set_column(0, 0, 16)
    notes.set_column(3, 3, 60)
    notes.write_string(len(spec.fields) + 2, 0, gettext("Fill in the first sheet from row 2; keep the header row."))
    wb.close()
    return buf.getvalue()


def report_bytes(result: ImportResult) -> bytes:
    buf = io.BytesIO()
    cols = [Column("row", _("Row"), INT), Column("column", _("Column")), Column("reason", _("Reason"))]
    write_xlsx(buf, gettext("Errors"), cols, ((r, c, m) for r, c, m in result.errors))
    return buf.getvalue()


def _norm_header(text) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lower().replace(" ", "").replace("*", "")


@contextmanager
def _readable():
    """zipfile's check of sizes and CRC, a broken stream, an encrypted member or an unknown compression method."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError):
        raise BusinessError(_("The file is damaged and cannot be read."), 400) from None


def _load_first_sheet(data: bytes, max_rows: int) -> tuple[Iterator[list], list]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = wb.get_sheet_by_index(0)
        # a sheet within the row limit is turned into Python values in one call (much quicker than row by row);
        # a taller one is read lazily, so that "too many rows" is found without holding all of them
        raw = iter(sheet.to_python()) if sheet.height <= max_rows + 1 else sheet.iter_rows()
        return raw, sheet.merged_cell_ranges
    except Exception:  # calamine raises several error types for damaged workbooks
        raise BusinessError(_("The file is damaged and cannot be read."), 400) from None


def read_rows(data: bytes, max_rows: int, max_unzipped: int) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """Open an xlsx held in memory; refuse non-xlsx, corrupt, oversized and empty files with a clear message.
    Returns the header and the rows holding a value, each with its row number in Excel (blank rows are skipped)."""
    if not data:
        raise BusinessError(_("The file is empty."), 400)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # an OLE2 compound file: Excel 97-2003 .xls
        raise BusinessError(
            _("This is an old Excel file (.xls). Open it in Excel, save it as .xlsx and upload that file."), 400
        )
    if not data.startswith(b"PK\x03\x04"):
        raise BusinessError(_("This is not an Excel .xlsx file. Please use the downloaded template."), 400)
    with _readable():
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > max_unzipped:
                raise BusinessError(_("The file is too large once unpacked."), 400)
            if "xl/workbook.xml" not in zf.namelist():
                raise BusinessError(_("This is not an Excel .xlsx file. Please use the downloaded template."), 400)
            sheets = _sheet_paths(zf)
            for path in sheets:
                _check_extent(zf, path, max_rows)
    # the cells' values are checked while calamine loads the sheet (it lets go of the GIL meanwhile: the check costs
    # no time); a refusal by the check comes first, as if it had run before
    with ThreadPoolExecutor(1) as pool:
        checked = pool.submit(_check_values, data, sheets)
        try:
            raw, merged = _load_first_sheet(data, max_rows)
        except BusinessError as e:
            failed = e
        else:
            failed = None
        with _readable():
            checked.result()
    if failed is not None:
        raise failed
    if merged:  # the value sits in the first cell only: the other rows would import it as empty
        (top, left), (bottom, right) = merged[0]
        raise BusinessError(
            _(
                "The sheet has merged cells (%(cells)s); unmerge them and fill in every cell, then upload again.",
                cells=f"{_cell_name(top, left)}:{_cell_name(bottom, right)}",
            ),
            400,
        )
    try:
        header = next(raw, None)
    except Exception:
        raise BusinessError(_("The file is damaged and cannot be read."), 400) from None
    if header is None or not any(str(h).strip() for h in header):
        raise BusinessError(_("The file is empty."), 400)

    def rows():
        count = 0
        try:
            for number, row in enumerate(raw, start=2):  # the row's number in Excel, the header being row 1
                for v in row:  # a row counts when any cell holds more than blanks
                    if v is not None and v != "" and (v.__class__ is not str or v.strip()):
                        break
                else:
                    continue
                count += 1
                if count > max_rows:
                    raise BusinessError(
                        _("The file has more than %(max)s rows; split it into smaller files.", max=max_rows), 400
                    )
                yield number, row
        except BusinessError:
            raise
        except Exception:
            raise BusinessError(_("The file is damaged and cannot be read."), 400) from None

    return [str(h) if h is not None else "" for h in header], rows()


XLSX_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
XLSX_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _first_sheet_path(zf: zipfile.ZipFile) -> str | None:
    """The archive member of the first sheet (the one calamine reads), from the workbook and its relationships."""
    try:
        sheet = ET.fromstring(zf.read("xl/workbook.xml")).find(f"{XLSX_MAIN}sheets/{XLSX_MAIN}sheet")
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == sheet.get(f"{XLSX_REL}id"))
    except (KeyError, AttributeError, StopIteration, ET.ParseError):
        return None  # unusual or broken: calamine judges it
    path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return path if path in zf.namelist() else None


def _sheet_paths(zf: zipfile.ZipFile) -> list[str]:
    """The archive member of the first sheet (the one calamine reads); when the workbook's relationships are unusual
    calamine finds it its own way, so then every XML member is held to the same limits."""
    path = _first_sheet_path(zf)
    return [path] if path is not None else [i.filename for i in zf.infolist() if i.filename.endswith(".xml")]


def _check_extent(zf: zipfile.ZipFile, path: str, max_rows: int) -> None:
    """Bound calamine's grid before it is built, streaming the sheet's XML a chunk at a time.

    calamine builds a dense grid from the first to the last cell of the sheet (32 bytes a cell) before its height is
    known: two cells, at A1 and at XFD100000, ask for 52 GB and abort the process. So the grid must stay within the
    row limit and at most (row limit + 1) × 26 cells plus a margin. The quick path serves files whose cells and rows
    all start with their reference (every spreadsheet program writes them so): only references past column Z or
    with as many digits as the row limit are looked at. Anything else (cells without references, prefixed tags,
    quotes or spaces of another style) is measured tag by tag, as calamine places it."""
    limit = max_rows + 1  # + the header row
    budget = limit * 26 + 1_000_000  # cells of calamine's grid: 26 columns of the row limit, and room for formatting
    # One pass for cells and one for rows find every tag not in the quick form: a cell starting <c r=" with one
    # letter and fewer digits than the limit has, a row starting <row r=" with fewer digits. Few tags are found
    # (the last rows of a file close to the limit): each is read exactly, and any other form is measured.
    short = len(str(limit)) - 1
    fewer = rb"\d{1,%d}" % short if short else rb"(?!)"  # a limit below 10: every tag is read exactly
    odd_cell = re.compile(rb'<c(?! r="[A-Za-z]%s")[\s>/]' % fewer)
    odd_row = re.compile(rb'<row(?! r="%s")[\s>/]' % fewer)
    # the smallest cell, <c r="A1"/>, takes 11 bytes: a smaller sheet cannot hold more cells than the budget
    count_cells = zf.getinfo(path).file_size > budget * 11
    cells = 0
    for block in _blocks(zf, path, b"c>", after=True):
        if PREFIXED.search(block):
            return _measure_extent(zf, path, limit, budget)
        if count_cells:
            cells += block.count(b'<c r="')
            if cells > budget:
                return _measure_extent(zf, path, limit, budget)
        for m in chain(odd_cell.finditer(block), odd_row.finditer(block)):
            quick = QUICK_REF.match(block, m.start())
            if quick is None:
                return _measure_extent(zf, path, limit, budget)
            col, row = _ref_position((quick.group(1) or quick.group(2)).decode())
            if row >= limit or col >= 26:  # from 0: the header is row 0
                return _measure_extent(zf, path, limit, budget)


def _check_values(data: bytes, paths: list[str]) -> None:
    """calamine reads a formula without a saved result (as written by programs) and an error value (#DIV/0!) as an
    empty cell: both are refused rather than imported as blanks."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for path in paths:
            for block in _blocks(zf, path, b"c>", after=True):  # up to the end of a cell (</c>, </x:c>): whole cells
                if b't="e"' in block and ERROR_CELL.search(block):
                    raise BusinessError(
                        _(
                            "Some cells show an error (#DIV/0!, #N/A …) instead of a value; correct them and upload "
                            "again."
                        ),
                        400,
                    )
                formulas = b"<f" in block or (b":f" in block and PREFIXED.search(block))
                if formulas and any(_uncached_formula(cell) for cell in block.split(b"c>")):
                    raise BusinessError(
                        _(
                            "Some cells hold a formula without a calculated result (the file was not saved by "
                            "Excel). Open it in Excel, save it and upload it again."
                        ),
                        400,
                    )


# a cell or a row in the quick form, starting with its reference (a row's has no letters)
QUICK_REF = re.compile(rb'<(?:c r="([A-Za-z]\d+)"|row r="(\d+)")')
PREFIXED = re.compile(rb":(?:c|row|f)[\s>/]")  # <x:c …>: calamine reads tags by their local name
ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*\bt="e"')
FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>[^<]")  # a saved result: <v>2</v>, not openpyxl's <v />
TAG = re.compile(rb"""<(?:[\w.-]+:)?(row|c)(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>""")  # ">" may sit in quotes
REF = re.compile(rb"""(?:^|\s)r\s*=\s*(["'])\s*([A-Za-z]*)(\d*)\s*\1""")


def _ref_position(ref: str) -> tuple[int, int]:
    """(column, row), both from 0, of a reference like "AB12"; absurdly long ones count as very far."""
    letters = ref.rstrip("0123456789")
    col = 0
    for ch in letters[:8].upper():
        col = col * 26 + ord(ch) - 64
    return col - 1, _row_number(ref[len(letters) :]) - 1


def _row_number(digits) -> int:
    return int(digits or 0) if len(digits) <= 9 else 10**9  # int() refuses thousands of digits


def _measure_extent(zf: zipfile.ZipFile, path: str, limit: int, budget: int) -> None:
    """Place every row and cell as calamine does (at its reference where there is one, else after the previous) and
    refuse a sheet whose rows holding values pass the row limit, or whose grid would pass the budget of cells.
    Rows past the limit that only carry formatting are allowed (spreadsheet programs write them)."""
    row, col, rows, cols, cells, valued_ok = -1, 0, 0, 0, 0, False
    for block in _blocks(zf, path, b"<", after=False):  # up to the start of a tag: each tag is judged whole
        for m in TAG.finditer(block):
            ref = REF.search(m.group(2))
            letters, digits = (ref.group(2).decode(), ref.group(3)) if ref else ("", b"")
            if m.group(1) == b"row":
                row, col = (_row_number(digits) - 1 if digits else row + 1), 0
                continue
            cells += 1
            col = (_ref_position(letters)[0] if letters else col) + 1
            rows, cols = max(rows, row + 1, _row_number(digits) if digits else 0), max(cols, col)
        if rows > limit and not valued_ok:
            if _valued_rows(zf, path, limit) > limit:
                raise BusinessError(
                    _("The file has more than %(max)s rows; split it into smaller files.", max=limit - 1), 400
                )
            valued_ok = True
        if cells > budget or rows * cols > budget:
            raise BusinessError(
                _(
                    "The sheet reaches cell %(cell)s: too large to import. Delete the rows and columns after the "
                    "data (or split the file) and upload again.",
                    cell=_cell_name(rows - 1, cols - 1),
                ),
                400,
            )


def _uncached_formula(cell: bytes) -> bool:
    return FORMULA.search(cell) is not None and VALUE.search(cell) is None


def _valued_rows(zf: zipfile.ZipFile, path: str, limit: int) -> int:
    """Rows holding a value, counted up to just past `limit`."""
    rows, tail = 0, b""
    for chunk in _chunks(zf, path):
        # pieces end at "row>" (</row>, </x:row>, or <row> opening): a row's values all fall in one piece
        *pieces, tail = (tail + chunk).split(b"row>")
        for piece in pieces:
            if b"<v>" in piece or b"<t>" in piece or b"<t " in piece or b":v>" in piece or b":t>" in piece:
                rows += 1
        if rows > limit:
            break
    return rows


def _cell_name(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def _chunks(zf: zipfile.ZipFile, path: str, size: int = 1 << 20) -> Iterator[bytes]:
    with zf.open(path) as stream:
        while chunk := stream.read(size):
            yield chunk


def _blocks(zf: zipfile.ZipFile, path: str, sep: bytes, after: bool) -> Iterator[bytes]:
    """The member in blocks of about a megabyte, each cut at the last `sep` it holds (just after or just before it),
    so that what lies between two separators is never split; the rest of the member comes last."""
    tail = b""
    for chunk in _chunks(zf, path):
        data = tail + chunk
        cut = data.rfind(sep)
        if cut < 0 and len(data) < 8 << 20:  # no separator yet: read on (a bounded amount)
            tail = data
            continue
        cut = len(data) if cut < 0 else cut + len(sep) if after else cut
        yield data[:cut]
        tail = data[cut:]
    if tail:
        yield tail


def map_headers(spec: ImportSpec, header: list[str]) -> dict[int, Field]:
    mapping: dict[int, Field] = {}
    unknown = []
    for idx, text in enumerate(header):
        if not str(text).strip():
            continue
        norm = _norm_header(text)
        f = next((f for f in spec.fields if norm in f.headers()), None)
        if f is None:
            unknown.append(str(text))
        elif f in mapping.values():
            raise BusinessError(_('Column "%(name)s" appears twice.', name=text), 400)
        else:
            mapping[idx] = f
    missing = [str(f.label) for f in spec.fields if f.required and f not in mapping.values()]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(gettext("missing columns: %(cols)s", cols="、".join(missing)))
        if unknown:
            parts.append(gettext("unknown columns: %(cols)s", cols="、".join(unknown)))
        raise BusinessError(
            _(
                "The header row does not match the template (%(detail)s). Please use the downloaded template.",
                detail="; ".join(parts),
            ),
            400,
        )
    return mapping


def parse_value(f: Field, raw, lookup=None):
    """Turn one cell into a Python value of the field's kind; raise RowError with a Chinese reason.
    `lookup` replaces the field's own (e.g. remembered within one import)."""
    if isinstance(raw, str):
        raw = unicodedata.normalize("NFKC", raw).strip()
        if "\x00" in raw:  # Excel's escape _x0000_: PostgreSQL cannot store it, and it is never meant
            raise RowError(f.label, _("Contains an invisible control character (U+0000)."))
        if raw and f.kind == TEXT and f.lookup is None:  # the common case, kept short
            if f.max_length and len(raw) > f.max_length:
                raise RowError(f.label, _("At most %(n)s characters.", n=f.max_length))
            return raw
    if raw is None or raw == "":
        if f.required:
            raise RowError(f.label, _("This column is required."))
        return None
    try:
        if f.kind == TEXT:
            text = _format_number(raw) if isinstance(raw, float) else str(raw)
            if f.max_length and len(text) > f.max_length:
                raise RowError(f.label, _("At most %(n)s characters.", n=f.max_length))
            if f.lookup is not None:
                obj = (lookup or f.lookup)(text)
                if obj is None:
                    if f.lookup_error:
                        raise RowError(f.label, _("“%(v)s”: %(reason)s", v=text, reason=f.lookup_error))
                    raise RowError(f.label, _('Unknown value "%(v)s".', v=text))
                return obj
            return text
        if f.kind == INT:
            d = Decimal(str(raw).replace(",", ""))
            if d != d.to_integral_value():
                raise RowError(f.label, _("Must be a whole number."))
            if abs(d) > INT_MAX:
                raise RowError(f.label, _("Number too large."))
            return int(d)
        if f.kind in (DECIMAL, MONEY, QTY):
            d = Decimal(_format_number(raw) if isinstance(raw, float) else str(raw).replace(",", "").lstrip("¥"))
            if not d.is_finite():
                raise InvalidOperation
            places = Decimal("0.001") if f.kind == QTY else Decimal("0.01")
            if d != d.quantize(places):
                raise RowError(f.label, _("Too many decimal places."))
            if abs(d) >= (QTY_LIMIT if f.kind == QTY else MONEY_LIMIT):
                raise RowError(f.label, _("Number too large."))
            return d.quantize(places)
        if f.kind == BOOL:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"是", "启用", "yes", "y", "true", "1", "1.0"}:
                return True
            if text in {"否", "停用", "no", "n", "false", "0", "0.0"}:
                return False
            raise RowError(f.label, _("Write 是 or 否."))
        if f.kind == DATE:
            if isinstance(raw, dt.datetime):
                return raw.date()
            if isinstance(raw, dt.date):
                return raw
            text = str(raw).replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
            return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except RowError:
        raise
    except (InvalidOperation, ValueError, TypeError):
        pass
    kinds = {
        INT: _("a whole number"),
        DECIMAL: _("a number"),
        MONEY: _("an amount"),
        QTY: _("a quantity"),
        DATE: _("a date like 2026-01-31"),
        BOOL: _("是 or 否"),
    }
    raise RowError(f.label, _('"%(v)s" is not %(kind)s.', v=raw, kind=kinds.get(f.kind, f.kind)))


def _format_number(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _remembered(lookup):
    """One query per distinct text of a column within an import (a thousand rows name the same city)."""
    known: dict = {}

    def find(text):
        if text not in known:
            known[text] = lookup(text)
        return known[text]

    return find


def _converter(f: Field, lookup=None) -> Callable:
    """parse_value() for one column of an import, quicker on the cells of a large file: text is checked inline, and
    any other kind converts each distinct cell once (a column repeats its amounts, dates and names of categories).
    Whatever the quick path does not settle goes to parse_value(), so both give the same values and messages."""
    normalize = unicodedata.normalize
    if f.kind == TEXT and f.lookup is None:
        limit = f.max_length or float("inf")

        def text(raw):
            if raw.__class__ is str:
                value = normalize("NFKC", raw).strip()
                if value and len(value) <= limit and "\x00" not in value:
                    return value
            return parse_value(f, raw)

        return text
    done: dict = {}

    def remembered(raw):
        key = (raw.__class__, raw)  # the class too: 1, 1.0 and True are equal keys of a dict
        try:
            return done[key]
        except KeyError:
            value = done[key] = parse_value(f, raw, lookup)  # a RowError is not remembered: raised each time
            return value
        except TypeError:  # an unhashable cell value
            return parse_value(f, raw, lookup)

    return remembered


def run_import(spec: ImportSpec, data: bytes, session, max_rows: int, max_unzipped: int) -> ImportResult:
    """Validate every row, then write all of them in one transaction, or nothing.

    The columns that read the database (lookups, unique keys, prepare()'s) are converted for every row first; then
    each row's other columns are converted, the row is made and handed to the writer at once, so the database
    stores the first rows while the next are checked. After the first problem nothing more is written, every row is
    still checked, and all is rolled back."""
    header, rows = read_rows(data, max_rows, max_unzipped)
    mapping = map_headers(spec, header)
    lookups = {f.key: _remembered(f.lookup) for f in mapping.values() if f.lookup is not None}
    result = ImportResult()
    columns = [(idx, f.key, _converter(f, lookups.get(f.key))) for idx, f in mapping.items()]
    reading = set(spec.unique_keys) | set(spec.prepare_keys) | set(lookups)
    early = [c for c in columns if c[1] in reading]
    late = [c for c in columns if c[1] not in reading]
    seen: dict[str, dict] = {k: {} for k in spec.unique_keys}
    checked: list[tuple[int, list, dict | None]] = []  # (Excel row, cells, the early columns' values or None)
    for excel_row, row in rows:
        values = _convert(early, row, excel_row, result.errors) if early else {}
        if values is not None and seen and not _unique(spec, values, seen, excel_row, result.errors):
            values = None
        checked.append((excel_row, row, values))
    result.total = len(checked)
    if result.total == 0:
        raise BusinessError(_("The file has no data rows."), 400)
    if spec.prepare is not None:
        with session.no_autoflush:
            spec.prepare([values for _row, _cells, values in checked if values is not None])
    objects = []
    writer = BulkWriter(session, spec.bulk_model, spec.name) if spec.bulk_model is not None else None
    try:
        with session.no_autoflush:
            for excel_row, row, values in checked:
                rest = _convert(late, row, excel_row, result.errors)
                if values is None or rest is None:
                    continue
                values.update(rest)
                try:
                    made = spec.create(values)
                except RowError as e:
                    result.errors.append((excel_row, str(e.column), str(e.message)))
                    continue
                except BusinessError as e:
                    result.errors.append((excel_row, str(e.field or ""), str(e)))
                    continue
                if writer is None:
                    objects.append(made)
                elif not result.errors:  # after the first problem nothing more is written (and all is rolled back)
                    writer.add(made)
        if result.errors:
            if writer is not None:
                writer.abort()
            for obj in objects:
                if obj in session:
                    session.expunge(obj)
            session.rollback()
            # a row's problems in the order of its columns (those reading the database were checked first)
            order = {str(f.label): i for i, f in enumerate(mapping.values())}
            result.errors.sort(key=lambda e: (e[0], order.get(e[1], len(order))))
            return result
        if writer is None:
            session.add_all(objects)
            result.created = len(objects)
        else:
            result.created = writer.close()
        session.commit()
    except Exception:
        if writer is not None:
            writer.abort()
        session.rollback()
        raise
    return result


def _convert(columns: list, row: list, excel_row: int, errors: list) -> dict | None:
    """The row's values of these columns, or None after adding their problems to `errors`."""
    values: dict = {}
    ok = True
    width = len(row)
    for idx, key, convert in columns:
        try:
            values[key] = convert(row[idx] if idx < width else None)
        except RowError as e:
            errors.append((excel_row, str(e.column), str(e.message)))
            ok = False
    return values if ok else None


def _unique(spec: ImportSpec, values: dict, seen: dict, excel_row: int, errors: list) -> bool:
    """False (with the problems added to `errors`) when a unique value repeats an earlier row or the database."""
    ok = True
    for key in spec.unique_keys:
        value = values.get(key)
        if value is None:
            continue
        label = str(spec.field_by_key(key).label)
        norm = str(value).strip().lower()
        if norm in seen[key]:
            errors.append((excel_row, label, gettext("Duplicates row %(row)s of this file.", row=seen[key][norm])))
            ok = False
        else:
            seen[key][norm] = excel_row
            if spec.exists and spec.exists(key, value):
                errors.append((excel_row, label, gettext('"%(v)s" already exists.', v=value)))
                ok = False
    return ok


class BulkWriter:
    """INSERTs validated rows (dicts) of one model as they come, in one transaction, without the unit of work.

    Python-side column defaults (created_at …) are evaluated once for the whole import; each column's own bind
    processor (the dialect's conversion of dates, decimals, booleans) is applied here, skipping SQLAlchemy's per-row
    parameter handling, which costs more than the INSERT itself for a large import. Rows become tuples at once, by a
    plan made once for each set of keys create() returns, and are written CHUNK at a time, converted a column at a
    time. On PostgreSQL they stream through one COPY, so the server maintains indexes while the next rows are still
    being made; on SQLite one statement inserts many rows (fewer statement steps)."""

    CHUNK = 5000
    FIRST = 500  # the first rows go at once: the database starts on them while the next are made

    def __init__(self, session, model, name: str):
        from sqlalchemy import inspect

        mapper = inspect(model)
        self.session, self.name, self.table = session, name, mapper.local_table
        self.defaults = {}
        for col in self.table.columns:
            default = col.default
            if not col.primary_key and default is not None and (default.is_scalar or default.is_callable):
                self.defaults[col.key] = default.arg if default.is_scalar else default.arg(None)
        self.columns = {c.key for c in mapper.column_attrs} & set(self.table.c.keys())
        self.relations = {
            rel.key: [(local.key, remote.key) for local, remote in rel.local_remote_pairs]
            for rel in mapper.relationships
            if rel.direction.name == "MANYTOONE"
        }
        self.conn = session.connection()
        self.dialect = self.conn.dialect
        self.count = 0
        self.plans: dict[tuple, tuple] = {}  # the keys create() returned → how to make a row of them
        self.converts: dict[tuple, list] = {}  # column keys → the processors of their columns
        self.pending: dict[tuple, list[tuple]] = {}  # column keys → rows (tuples in that order)
        self.waiting = 0
        self.processors: dict = {}
        self._copy = None  # (cursor, context, keys, copy) of the open COPY on PostgreSQL
        self.copying = self.dialect.name == "postgresql" and self.dialect.driver == "psycopg"
        self._inserting = None  # (thread pool, the INSERTs under way) on SQLite

    def add(self, values: dict) -> None:
        shape = tuple(values)
        plan = self.plans.get(shape) or self._plan(shape)
        keys, take, relations, fixed = plan
        row = take(values)
        if relations:
            row += tuple(
                fallback if (obj := values[key]) is None else getattr(obj, remote)
                for key, remote, fallback in relations
            )
        row += fixed
        self.count += 1
        self.pending.setdefault(keys, []).append(row)
        self.waiting += 1
        if self.waiting >= self.CHUNK or self.waiting == self.count == self.FIRST:
            self._flush()

    def _plan(self, shape: tuple) -> tuple:
        """(column keys, picker of the given columns, relations, the defaults' processed values)."""
        given = [k for k in shape if k in self.columns]
        relations, locals_ = [], []  # a relation given as an object (or None: the column's default)
        for key in shape:
            if key in self.columns or key not in self.relations:
                continue  # create() returns only what the table takes
            for local, remote in self.relations[key]:
                if local not in given and local not in locals_:
                    relations.append((key, remote, self.defaults.get(local)))
                    locals_.append(local)
        rest = [k for k in self.defaults if k not in given and k not in locals_]
        keys = tuple(given + locals_ + rest)
        fixed = tuple(self._processed(k, self.defaults[k]) for k in rest)
        # the defaults go out processed already: only the other columns are converted
        convert = [self._processor(k) for k in given + locals_] + [None] * len(rest)
        self.converts[keys] = convert
        take = (lambda v, k=given[0]: (v[k],)) if len(given) == 1 else itemgetter(*given) if given else lambda v: ()
        plan = (keys, take, relations, fixed)
        self.plans[shape] = plan
        return plan

    def _processed(self, key, value):
        proc = self._processor(key)
        return value if proc is None or value is None else proc(value)

    def close(self) -> int:
        """Write what is left; returns the number of rows written and records the import in the audit trail."""
        from app.core.audit import record_bulk

        with self._as_sqlalchemy_errors():
            self._flush()
            self._end_copy()
            self._inserted(last=True)
        if self.count:
            record_bulk(self.session, self.table.name, self.count, self.name)
        return self.count

    @contextmanager
    def _as_sqlalchemy_errors(self):
        """The rows go through the driver's own cursor (COPY, the INSERT thread): its errors are raised as
        SQLAlchemy's (IntegrityError …), as any other statement's would be."""
        from sqlalchemy.exc import DBAPIError

        dbapi_error = self.dialect.loaded_dbapi.Error
        try:
            yield
        except dbapi_error as e:
            raise DBAPIError.instance(None, None, e, dbapi_error) from e

    def _processor(self, key):
        if key not in self.processors:
            self.processors[key] = self.table.c[key].type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return self.processors[key]

    def abort(self) -> None:
        """Give up an open COPY (the server discards it), or wait for the INSERTs under way, so that the
        transaction can be rolled back."""
        self.pending, self.waiting = {}, 0
        try:
            self._inserted(last=True)
        except Exception:  # rolled back with the rest
            pass
        if self._copy is not None:
            cursor, context, _keys, _copy = self._copy
            self._copy = None
            try:
                context.__exit__(RuntimeError, RuntimeError("import abandoned"), None)
            except Exception:  # the server reports the abandoned COPY: expected
                pass
            cursor.close()

    def _open_copy(self, keys: tuple) -> None:
        self._end_copy()  # rows of another set of columns: the open COPY is complete
        quote = self.dialect.identifier_preparer
        target = f"{quote.format_table(self.table)} ({', '.join(quote.quote(self.table.c[k].name) for k in keys)})"
        cursor = self.conn.connection.driver_connection.cursor()
        context = cursor.copy(f"COPY {target} FROM STDIN")
        self._copy = (cursor, context, keys, context.__enter__())

    def _end_copy(self) -> None:
        if self._copy is not None:
            cursor, context, _keys, _copy = self._copy
            self._copy = None
            context.__exit__(None, None, None)
            cursor.close()

    def _flush(self) -> None:
        pending, self.pending, self.waiting = self.pending, {}, 0
        for keys, rows in pending.items():
            if self.copying:
                with self._as_sqlalchemy_errors():
                    self._copy_rows(keys, rows)
            else:
                self._execute_many(keys, rows)

    def _columns(self, keys: tuple, rows: list[tuple]) -> list:
        """The rows a column at a time, each column converted by its bind processor."""
        columns = list(zip(*rows))
        for i, proc in enumerate(self.converts[keys]):
            if proc is not None:
                done: dict = {None: None}  # an import repeats values (dates, regions, owner): convert each once
                try:
                    columns[i] = [done[v] if v in done else done.setdefault(v, proc(v)) for v in columns[i]]
                except TypeError:  # an unhashable value (JSON)
                    columns[i] = [None if v is None else proc(v) for v in columns[i]]
        return columns

    def _copy_rows(self, keys: tuple, rows: list[tuple]) -> None:
        """Rows into the open COPY (one for the whole import: the server checks the keys once, at its end). They are
        written as COPY text made a column at a time, a quarter of the time psycopg takes to adapt value by value
        (0.42 s for 100k customers); a column holding a type not formatted here goes through psycopg."""
        if self._copy is None or self._copy[2] != keys:
            self._open_copy(keys)
        copy = self._copy[3]
        columns = self._columns(keys, rows)
        texts = [_copy_texts(column) for column in columns]
        if any(t is None for t in texts):
            for row in zip(*columns):
                copy.write_row(row)
            return
        copy.write("\n".join(map("\t".join, zip(*texts))) + "\n")

    def _execute_many(self, keys: tuple, rows: list[tuple]) -> None:
        compiled = self.table.insert().compile(dialect=self.dialect, column_keys=list(keys))
        names = list(compiled.positiontup) if compiled.positional else list(keys)
        if sorted(names) != sorted(keys):  # a column whose bind name differs: let SQLAlchemy map it
            self.session.execute(self.table.insert(), [dict(zip(keys, row)) for row in rows])
            return
        columns = self._columns(keys, rows)
        order = [keys.index(n) for n in names]
        if compiled.positional:
            params = list(zip(*(columns[i] for i in order)))
        else:
            params = [dict(zip(keys, v)) for v in zip(*columns)]
        if self.dialect.name == "sqlite":
            self._insert_sqlite(compiled.string, params)
        else:
            self.conn.exec_driver_sql(compiled.string, params)

    def _insert_sqlite(self, sql: str, params: list[tuple]) -> None:
        """Many rows per INSERT: SQLite then steps one statement per batch instead of one per row (-15 %)."""
        head, values, group = sql.partition(" VALUES ")
        width = len(params[0]) if params else 1
        # up to 1,000 rows a statement (0.43 → 0.37 s for 100k customers against 76), within SQLite's limit of
        # parameters: 32,766 since 3.32, 999 before
        per = max(1, min(1000, (32766 if sqlite3.sqlite_version_info >= (3, 32) else 999) // width))
        whole = len(params) - len(params) % per
        work = []
        if whole:
            batch = f"{head}{values}{', '.join([group] * per)}"
            work.append((batch, [tuple(chain.from_iterable(params[i : i + per])) for i in range(0, whole, per)]))
        if whole < len(params):
            work.append((sql, params[whole:]))
        # SQLite lets go of the GIL while it steps a statement: the rows are inserted by a thread while the next
        # ones are made here (-0.1 s of 1.3 s for 100k customers). One batch at a time, in order, on the same
        # connection (the sqlite3 module serializes its use); its error is raised at the next batch or at close()
        self._inserted()
        if self._inserting is None:
            self._inserting = (ThreadPoolExecutor(1, thread_name_prefix="import-insert"), None)
        pool = self._inserting[0]
        self._inserting = (pool, pool.submit(self._insert, self.conn.connection.driver_connection, work))

    @staticmethod
    def _insert(connection, work: list) -> None:
        cursor = connection.cursor()
        try:
            for statement, params in work:
                cursor.executemany(statement, params)
        finally:
            cursor.close()

    def _inserted(self, last: bool = False) -> None:
        """Wait for the INSERTs under way (raising their error); the last wait also ends the thread."""
        if self._inserting is None:
            return
        pool, under_way = self._inserting
        self._inserting = None if last else (pool, None)
        try:
            if under_way is not None:
                with self._as_sqlalchemy_errors():
                    under_way.result()
        finally:
            if last:
                pool.shutdown()


# COPY's text format: NULL is \N; a backslash, tab, newline or carriage return inside a value is escaped
COPY_NULL = "\\N"
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_FORMATS: dict[type, Callable] = {
    int: int.__str__,
    bool: {True: "t", False: "f"}.__getitem__,
    Decimal: Decimal.__str__,
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
}


def _copy_texts(values: list) -> list[str] | None:
    """A column of values as COPY text, or None when it holds a type formatted only by psycopg (or a NUL, which
    psycopg refuses with its own error)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds:
        return [COPY_NULL] * len(values)
    if kinds == {str}:
        given = [v for v in values if v is not None] if None in values else values
        joined = "".join(given)  # one scan of the column decides whether any value needs escaping
        if "\x00" in joined:
            return None
        if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
            values = [v if v is None else v.translate(COPY_ESCAPES) for v in values]
        return [COPY_NULL if v is None else v for v in values] if len(given) < len(values) else values
    if not kinds <= COPY_FORMATS.keys():
        return None
    if len(kinds) > 1:
        return [COPY_NULL if v is None else COPY_FORMATS[type(v)](v) for v in values]
    fmt = COPY_FORMATS[kinds.pop()]
    done = {None: COPY_NULL}  # amounts, dates and flags repeat down a column: each is formatted once
    return [done[v] if v in done else done.setdefault(v, fmt(v)) for v in values]
