"""Rules of opening balances 期初数据: Excel rows posted once, through the same ledger and receivables as everything
else, each marked as opening (a stock-in 期初入库, an approved order 期初应收, an approved contract 期初应付).

- Importing the same product and warehouse, customer or supplier twice is refused (also in a race: unique key).
- Once regular documents exist, opening balances would rewrite history; only an administrator who confirms may.
- Opening orders and contracts are not sales or purchases: statistics leave them out; receivables, aging,
  statements, credit control and dunning count them.
"""

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _
from sqlalchemy import func

from app.core import excel, workflow
from app.core.errors import BusinessError, Forbidden
from app.core.formatting import local_today
from app.core.models import CENT, utcnow
from app.opening.models import KINDS, PAYABLE, RECEIVABLE, STOCK, OpeningBalance

ADMIN = "Admin"


def regular_documents(session) -> dict[str, int]:
    """Documents other than opening ones that already exist (sales orders, receipts, contracts, stock docs)."""
    from app.inventory.models import StockIn, StockOut
    from app.purchase.models import PurchaseContract
    from app.sales.models import Receipt, SalesOrder

    counts = {
        str(_("Sales Orders")): session.query(func.count(SalesOrder.id)).filter(SalesOrder.is_opening.is_(False)),
        str(_("Receipts")): session.query(func.count(Receipt.id)),
        str(_("Purchase Contracts")): session.query(func.count(PurchaseContract.id)).filter(
            PurchaseContract.is_opening.is_(False)
        ),
        str(_("Stock In")): session.query(func.count(StockIn.id)).filter(StockIn.is_opening.is_(False)),
        str(_("Stock Out")): session.query(func.count(StockOut.id)),
    }
    return {name: n for name, q in counts.items() if (n := q.scalar())}


def ensure_may_import(session, user, confirmed: bool) -> None:
    """Opening balances come before the first regular document, unless an administrator confirms."""
    found = regular_documents(session)
    if not found:
        return
    if confirmed and ADMIN in {r.name for r in user.roles}:
        return
    listed = "、".join(f"{name} {n}" for name, n in found.items())
    if ADMIN not in {r.name for r in user.roles}:
        raise Forbidden(
            _(
                "Documents already exist (%(docs)s); only an administrator can still import opening balances.",
                docs=listed,
            )
        )
    raise BusinessError(
        _(
            "Documents already exist (%(docs)s). Opening balances now change figures already reported; tick "
            "“I confirm” to import anyway.",
            docs=listed,
        ),
        409,
    )


def _refuse_twice(session, key: str, what: str) -> None:
    done = session.query(OpeningBalance).filter(OpeningBalance.key == key).one_or_none()
    if done is not None:
        raise excel.RowError(
            what, _("Already imported on %(day)s as %(no)s.", day=done.as_of.isoformat(), no=done.doc_number)
        )


def _money(value, label) -> Decimal:
    amount = Decimal(value)
    if amount <= 0 or amount != amount.quantize(CENT):
        raise excel.RowError(label, _("Must be greater than 0, with at most 2 decimals."))
    return amount


def post_stock(session, values: dict, as_of: dt.date, user) -> OpeningBalance:
    """One row of opening stock: a posted stock-in 期初入库 at the given unit cost (it starts the moving average)."""
    from app.inventory.models import StockIn, StockInLine
    from app.inventory.services import confirm_stock_in

    product, warehouse = values["product"], values["warehouse"]
    qty = Decimal(values["qty"])
    if qty <= 0 or qty != qty.quantize(Decimal("0.001")):
        raise excel.RowError(_("Quantity"), _("Must be greater than 0, with at most 3 decimals."))
    cost = Decimal(values.get("unit_cost") if values.get("unit_cost") is not None else product.purchase_price or 0)
    if cost < 0 or cost != cost.quantize(CENT):
        raise excel.RowError(_("Unit Cost"), _("Cannot be negative; at most 2 decimals."))
    key = f"{STOCK}:{product.id}:{warehouse.id}"
    _refuse_twice(session, key, _("Product"))
    doc = StockIn(warehouse=warehouse, doc_date=as_of, is_opening=True, note=str(KINDS[STOCK]))
    doc.lines = [StockInLine(line_no=1, product=product, qty=qty, unit_cost=cost)]
    session.add(doc)
    session.flush()
    confirm_stock_in(session, doc, user)
    return _record(
        session, STOCK, key, as_of, user, doc.number, product=product, warehouse=warehouse, qty=qty, unit_cost=cost
    )


def post_receivable(session, values: dict, as_of: dt.date, user) -> OpeningBalance:
    """What a customer owed at the start: an approved opening order 期初应收 with its due date (no lines, no stock,
    not a sale); receipts, statements, aging and dunning treat it like any order."""
    from app.sales.models import SalesOrder

    customer = values["end_customer"]
    if customer.in_pool or customer.owner_id is None:
        raise excel.RowError(_("End Customer"), _("The customer is in the public pool; assign it first."))
    amount = _money(values["amount"], _("Amount"))
    due = values.get("due_date") or as_of
    key = f"{RECEIVABLE}:{customer.id}"
    _refuse_twice(session, key, _("End Customer"))
    order = SalesOrder(
        end_customer=customer,
        end_customer_id=customer.id,
        owner_id=customer.owner_id,
        doc_date=as_of,
        due_date=due,
        payment_days=max((due - as_of).days, 0),
        total_amount=amount,
        received_amount=Decimal(0),
        refunded_amount=Decimal(0),
        credited_amount=Decimal(0),
        commission_base=Decimal(0),
        invoiced_amount=amount,  # invoiced before the system started
        status=workflow.APPROVED,
        approved_at=utcnow(),
        is_opening=True,
        project_name=str(KINDS[RECEIVABLE]),
        note=values.get("note"),
    )
    session.add(order)
    session.flush()
    return _record(
        session, RECEIVABLE, key, as_of, user, order.number, end_customer=customer, amount=amount, due_date=due
    )


def post_payable(session, values: dict, as_of: dt.date, user) -> OpeningBalance:
    """What the company owed a supplier at the start: an approved opening contract 期初应付 to pay against."""
    from app.purchase.models import PurchaseContract

    supplier = values["supplier"]
    amount = _money(values["amount"], _("Amount"))
    due = values.get("due_date") or as_of
    key = f"{PAYABLE}:{supplier.id}"
    _refuse_twice(session, key, _("Supplier"))
    contract = PurchaseContract(
        supplier=supplier,
        doc_date=as_of,
        due_date=due,
        total_amount=amount,
        paid_amount=Decimal(0),
        invoiced_amount=amount,
        status=workflow.APPROVED,
        approved_at=utcnow(),
        is_opening=True,
        receipt_status="done",  # no goods to come
        note=values.get("note") or str(KINDS[PAYABLE]),
    )
    session.add(contract)
    session.flush()
    return _record(session, PAYABLE, key, as_of, user, contract.number, supplier=supplier, amount=amount, due_date=due)


def _record(session, kind, key, as_of, user, number, **values) -> OpeningBalance:
    row = OpeningBalance(kind=kind, key=key, as_of=as_of, doc_number=number, created_by_id=user.id, **values)
    session.add(row)
    session.flush()  # the unique key decides a race between two imports
    return row


# ------------------------------------------------------------------ import specs (one per kind)


def import_spec(kind: str, as_of: dt.date, user) -> excel.ImportSpec:
    from app.base_data.models import Product, Warehouse
    from app.base_data.services import _lookup_by_name
    from app.crm.models import EndCustomer
    from app.extensions import db
    from app.purchase.models import Supplier

    if as_of > local_today():
        raise BusinessError(_("The opening date cannot be in the future."), 400)
    note = excel.Field("note", _("Note"), english="Note", max_length=255)
    if kind == STOCK:
        fields = [
            excel.Field(
                "product",
                _("Product Model"),
                required=True,
                english="Model",
                lookup=_lookup_by_name(Product, "model_no", _("Product Model")),
                lookup_error=_("No such product model."),
            ),
            excel.Field(
                "warehouse",
                _("Warehouse Name"),
                required=True,
                english="Warehouse",
                lookup=_lookup_by_name(Warehouse, label=_("Warehouse Name")),
                lookup_error=_("No such warehouse."),
            ),
            excel.Field("qty", _("Quantity"), excel.QTY, required=True, english="Quantity"),
            excel.Field("unit_cost", _("Unit Cost"), excel.MONEY, english="Unit Cost"),
        ]
        post = post_stock
    elif kind == RECEIVABLE:
        fields = [
            excel.Field(
                "end_customer",
                _("End Customer"),
                required=True,
                english="Customer",
                lookup=_lookup_by_name(EndCustomer, label=_("End Customer")),
                lookup_error=_("No such end customer."),
            ),
            excel.Field("amount", _("Amount"), excel.MONEY, required=True, english="Amount"),
            excel.Field("due_date", _("Due Date"), excel.DATE, english="Due Date"),
            note,
        ]
        post = post_receivable
    elif kind == PAYABLE:
        fields = [
            excel.Field(
                "supplier",
                _("Supplier"),
                required=True,
                english="Supplier",
                lookup=_lookup_by_name(Supplier, label=_("Supplier")),
                lookup_error=_("No such supplier."),
            ),
            excel.Field("amount", _("Amount"), excel.MONEY, required=True, english="Amount"),
            excel.Field("due_date", _("Due Date"), excel.DATE, english="Due Date"),
            note,
        ]
        post = post_payable
    else:
        raise BusinessError(_("Not found."), 404)
    return excel.ImportSpec(
        name=f"opening_{kind}",
        title=KINDS[kind],
        fields=fields,
        create=lambda values: post(db.session, values, as_of, user),
    )
