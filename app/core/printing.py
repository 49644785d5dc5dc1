"""Printable A4 pages of documents (销售订单, 出库单, 采购合同, 收款单), written once.

A document's view inherits PrintableMixin and describes its paper in `print_content(item)` — header facts, line
columns and rows, the total, the signature boxes — as a PrintDocument; this module serves it at
`/<view>/print/<pk>` as a page of its own (no menus, print CSS, a 打印 button), with the read permission of the
document and the same scope as its show page: a record the user may not see is a 404, as there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flask import abort, current_app, url_for
from flask_appbuilder import expose, has_access
from flask_babel import get_locale, lazy_gettext as _

from app.core.formatting import LOCAL_TZ, amount_in_chinese, format_money, format_qty

TEXT, QTY, MONEY, PERCENT = "text", "qty", "money", "percent"


@dataclass
class PrintColumn:
    label: object
    kind: str = TEXT
    total: bool = False  # summed in the table's 合计 row


@dataclass
class PrintDocument:
    title: object  # 销售订单 …
    number: str
    doc_date: dt.date | None
    columns: list[PrintColumn]
    rows: list[list]  # one value per column; formatted by the column's kind
    fields: list[tuple[object, object]] = field(default_factory=list)  # header facts; empty values are left out
    amount: Decimal | None = None  # the document's total, in figures and in capitals
    signatures: list = field(default_factory=list)  # labels of the signature boxes
    note: str | None = None

    @property
    def header_fields(self) -> list[tuple[object, str]]:
        return [(label, str(value)) for label, value in self.fields if value not in (None, "")]

    @property
    def formatted_rows(self) -> list[list[str]]:
        return [[_cell(col.kind, value) for col, value in zip(self.columns, row)] for row in self.rows]

    @property
    def totals_row(self) -> list[str] | None:
        """The 合计 cell of each summed column ('' for the others); None when no column is summed."""
        if not any(col.total for col in self.columns):
            return None
        out = []
        for i, col in enumerate(self.columns):
            values = [row[i] for row in self.rows if row[i] not in (None, "")]
            out.append(_cell(col.kind, sum((Decimal(v) for v in values), Decimal(0))) if col.total and values else "")
        return out

    @property
    def amount_figures(self) -> str:
        return format_money(self.amount) if self.amount is not None else ""

    @property
    def amount_words(self) -> str:
        return amount_in_chinese(self.amount) if self.amount is not None else ""


def _cell(kind: str, value) -> str:
    if value is None or value == "":
        return ""
    if kind == MONEY:
        return format_money(value)
    if kind == QTY:
        return format_qty(value)
    if kind == PERCENT:
        return f"{format_qty(value)}%"
    return str(value)


def product_cells(product) -> list:
    """Product name, model no. / spec, unit: the first columns of every printed line."""
    if product is None:
        return ["", "", ""]
    model = " / ".join(part for part in (product.model_no, product.spec) if part)
    return [product.name, model, product.unit.name if product.unit else ""]


def product_columns() -> list[PrintColumn]:
    return [PrintColumn(_("Product")), PrintColumn(_("Model / Spec")), PrintColumn(_("Unit"))]


def priced_lines(lines) -> tuple[list[PrintColumn], list[list]]:
    """Columns and rows of priced lines (qty × unit price less discount %); the discount column only when used."""
    lines = list(lines)
    discounted = any(line.discount for line in lines)
    columns = [
        *product_columns(),
        PrintColumn(_("Quantity"), QTY, total=True),
        PrintColumn(_("Unit Price"), MONEY),
        *([PrintColumn(_("Discount %"), PERCENT)] if discounted else []),
        PrintColumn(_("Amount"), MONEY, total=True),
        PrintColumn(_("Note")),
    ]
    rows = [
        [
            *product_cells(line.product),
            line.qty,
            line.unit_price,
            *([line.discount or None] if discounted else []),  # blank, not 0%, on undiscounted lines
            line.amount,
            line.note,
        ]
        for line in lines
    ]
    return columns, rows


def person(user) -> str:
    if user is None:
        return ""
    name = user.get_full_name() if hasattr(user, "get_full_name") else str(user)
    return name.strip() or user.username


def party_contact(party) -> tuple[str, str]:
    """(contact, phone) of a customer or supplier: its primary contact, else its first, else its own fields."""
    if party is None:
        return "", ""
    contacts = sorted(getattr(party, "contacts", None) or [], key=lambda c: (not c.is_primary, c.id))
    contact = contacts[0] if contacts else None
    name = contact.name if contact else getattr(party, "contact_name", None) or ""
    phone = (contact.mobile or contact.phone) if contact else None
    return name, phone or party.phone or ""


def company() -> dict:
    """The letterhead: COMPANY_NAME, COMPANY_ADDRESS, COMPANY_PHONE of the configuration (config.py)."""
    cfg = current_app.config
    return {
        "name": cfg.get("COMPANY_NAME") or "",
        "address": cfg.get("COMPANY_ADDRESS") or "",
        "phone": cfg.get("COMPANY_PHONE") or "",
    }


class PrintableMixin:
    """For a document view (a BaseModelView with DocumentViewMixin): its print page and the show page's button."""

    print_template = "core/print_document.html"

    def print_content(self, item) -> PrintDocument:
        raise NotImplementedError

    def print_url(self, item) -> str:
        return url_for(f"{self.endpoint}.print_page", pk=item.id)

    @expose("/print/<int:pk>")
    @has_access
    def print_page(self, pk):
        item = self._scoped_get(pk)  # the show page's own lookup: base filters, so the same scope
        if item is None:
            abort(404)
        return self.render_template(
            self.print_template,
            doc=self.print_content(item),
            company=company(),
            printed_at=dt.datetime.now(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
            lang="zh-CN" if str(get_locale() or "zh").startswith("zh") else str(get_locale()),
        )
