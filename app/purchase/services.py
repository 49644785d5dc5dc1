"""Purchasing rules: suppliers, contracts (lines, totals, approval, edit rights), payments with the finance audit,
received invoices. Pages, the REST API and the CLI all call these functions."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _
from sqlalchemy import update

from app.core import workflow
from app.core.errors import BusinessError, Forbidden
from app.core.formatting import format_money, local_today
from app.core.models import ZERO, utcnow
from app.core.validation import ensure_unique, strip_text
from app.purchase.models import (
    Payment,
    PurchaseContract,
    PurchaseContractLine,
    PurchaseInvoice,
    Supplier,
    SupplierContact,
)
from app.sales.models import PAYMENT_METHODS
from app.sales.services import HALF_CENT, build_lines, money

APPROVER_ROLES = {"Admin"}
FINANCE_ROLES = {"Admin", "Finance"}


def roles_of(user) -> set[str]:
    return {r.name for r in user.roles} if user is not None else set()


def validate_supplier(item: Supplier) -> None:
    strip_text(item, "name", "contact_name", "phone", "address", "bank_name", "bank_account", "tax_no", "note")
    if not item.name:
        raise BusinessError(_("The supplier name is required."), 400, field=_("Supplier Name"))
    ensure_unique(item, "name", _("Supplier Name"))


def validate_supplier_contact(item: SupplierContact) -> None:
    strip_text(item, "name", "title", "mobile", "phone", "email", "note")
    if item.supplier is None:
        raise BusinessError(_("Choose a supplier."), 400)
    if not item.name:
        raise BusinessError(_("The contact name is required."), 400)


# ------------------------------------------------------------------ contracts


def ensure_contract_editable(contract: PurchaseContract, user) -> None:
    """Drafts and rejected contracts are edited by purchasing; once submitted only an approver; approved is locked."""
    if contract.status in (workflow.APPROVED, workflow.CANCELLED):
        raise BusinessError(_("An approved contract cannot be changed."), 409)
    if contract.status == workflow.SUBMITTED and user is not None and not roles_of(user) & APPROVER_ROLES:
        raise Forbidden(_("A submitted contract can only be changed by an approver."))


def contract_price(product) -> Decimal:
    """The unit price of a contract line left blank (also suggested while the form is filled in)."""
    return money(product.purchase_price)


def save_contract(session, contract: PurchaseContract, rows: list[dict] | None, user) -> None:
    if contract.id is not None:
        ensure_contract_editable(contract, user)
    strip_text(contract, "note")
    if contract.supplier is None:
        raise BusinessError(_("Choose a supplier."), 400, field=_("Supplier"))
    if contract.supplier.enabled is False:  # None: a supplier created in the same transaction
        raise BusinessError(_("Supplier “%(name)s” is disabled.", name=contract.supplier.name), 400)
    if contract.doc_date is None:
        contract.doc_date = local_today()
    if contract.delivery_date is not None and contract.delivery_date < contract.doc_date:
        raise BusinessError(_("The delivery date cannot be before the contract date."), 400)
    if contract.purchaser is None and user is not None:
        contract.purchaser = user  # the relationship: a blank form field has already set it to None
    if rows is not None:
        contract.lines = build_lines(
            session, contract, rows, PurchaseContractLine, price_for=lambda product, qty: contract_price(product)
        )
    if not contract.lines:
        raise BusinessError(_("A document needs at least one line."), 400)
    total = sum((Decimal(line.amount) for line in contract.lines), ZERO)
    if total < Decimal(contract.paid_amount or 0) - HALF_CENT:
        raise BusinessError(
            _(
                "The contract total cannot be less than the %(paid)s already paid.",
                paid=format_money(contract.paid_amount),
            ),
            409,
        )
    contract.total_amount = total
    if contract.paid_amount is None:
        contract.paid_amount = ZERO


def submit_contract(session, contract, user, comment=None) -> None:
    if not contract.lines:
        raise BusinessError(_("A document needs at least one line."), 400)
    workflow.submit(session, contract, user, comment)


def approve_contract(session, contract, user, comment=None) -> None:
    workflow.approve(session, contract, user, comment)
    if contract.status == workflow.APPROVED:
        contract.approved_at = utcnow()


# ------------------------------------------------------------------ payments


def post_payment(session, payment: Payment) -> None:
    """付款: on an approved contract, > 0, and all payments together never above the contract total."""
    strip_text(payment, "note")
    contract = payment.contract
    if contract is None:
        raise BusinessError(_("Choose a contract."), 400, field=_("Purchase Contract"))
    if contract.status != workflow.APPROVED:
        raise BusinessError(_("Contract %(no)s is not approved; it cannot be paid.", no=contract.number), 409)
    if payment.amount is None or Decimal(payment.amount) <= 0:
        raise BusinessError(_("%(label)s must be greater than 0.", label=_("Amount")), 400)
    if Decimal(payment.amount) != money(payment.amount):
        raise BusinessError(_("At most 2 decimals in the amount."), 400)
    if payment.method not in PAYMENT_METHODS:
        raise BusinessError(_("Choose a payment method."), 400)
    if payment.doc_date is None:
        payment.doc_date = local_today()
    payment.contract_id = contract.id
    amount = Decimal(payment.amount)
    result = session.execute(
        update(PurchaseContract)
        .where(
            PurchaseContract.id == contract.id,
            PurchaseContract.total_amount - PurchaseContract.paid_amount - amount > -HALF_CENT,
        )
        .values(paid_amount=PurchaseContract.paid_amount + amount)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(contract)
        raise BusinessError(
            _(
                "Payments would exceed the contract: total %(total)s, paid %(paid)s, at most %(left)s more.",
                total=format_money(contract.total_amount),
                paid=format_money(contract.paid_amount),
                left=format_money(max(contract.unpaid_amount, ZERO)),
            ),
            409,
        )
    session.expire(contract, ["paid_amount"])


def audit_payment(session, payment: Payment, user) -> None:
    """财务审核 by Finance/Admin, once."""
    if not roles_of(user) & FINANCE_ROLES:
        raise Forbidden(_("Only finance can audit payments."))
    result = session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.audited.is_(False))
        .values(audited=True, audited_by_id=user.id, audited_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BusinessError(_("Payment %(no)s is already audited.", no=payment.number), 409)
    session.expire(payment, ["audited", "audited_by_id", "audited_at"])


def delete_payment(session, payment: Payment) -> None:
    if payment.audited:
        raise BusinessError(_("An audited payment cannot be deleted."), 409)
    session.execute(
        update(PurchaseContract)
        .where(PurchaseContract.id == payment.contract_id)
        .values(paid_amount=PurchaseContract.paid_amount - Decimal(payment.amount))
        .execution_options(synchronize_session=False)
    )


def validate_invoice(item: PurchaseInvoice) -> None:
    """收票: like a sales invoice — number, date, tax rate, amount with tax split into net and tax."""
    strip_text(item, "invoice_no", "note")
    if item.contract is None:
        raise BusinessError(_("Choose a contract."), 400)
    if not item.invoice_no:
        raise BusinessError(_("The invoice number is required."), 400)
    if item.amount is None or Decimal(item.amount) <= 0 or Decimal(item.amount) != money(item.amount):
        raise BusinessError(_("The amount must be greater than 0, with at most 2 decimals."), 400)
    rate = Decimal(item.tax_rate if item.tax_rate is not None else 13)
    if rate < 0 or rate > 100:
        raise BusinessError(_("The tax rate must be between 0 and 100%%."), 400)
    item.tax_rate = rate
    if item.invoice_date is None:
        item.invoice_date = local_today()
    from app.sales.services import tax_split

    item.net_amount, item.tax_amount = tax_split(Decimal(item.amount), rate)


def receive_invoice(session, item: PurchaseInvoice) -> None:
    """A contract is never invoiced beyond its total (one guarded UPDATE decides, also between two clerks)."""
    validate_invoice(item)
    contract = item.contract
    if contract.status != workflow.APPROVED:
        raise BusinessError(_("Contract %(no)s is not approved.", no=contract.number), 409)
    amount = Decimal(item.amount)
    with session.no_autoflush:  # the new invoice is flushed by its own save, after this decision
        result = session.execute(
            update(PurchaseContract)
            .where(
                PurchaseContract.id == contract.id,
                PurchaseContract.total_amount - PurchaseContract.invoiced_amount - amount > -HALF_CENT,
            )
            .values(invoiced_amount=PurchaseContract.invoiced_amount + amount)
            .execution_options(synchronize_session=False)
        )
    if result.rowcount != 1:
        session.refresh(contract)
        raise BusinessError(
            _(
                "Contract %(no)s has only %(left)s left to invoice.",
                no=contract.number,
                left=format_money(max(contract.uninvoiced_amount, ZERO)),
            ),
            409,
        )
    session.expire(contract, ["invoiced_amount"])


def void_received_invoice(session, item: PurchaseInvoice, user) -> None:
    if not {r.name for r in user.roles} & {"Admin", "Finance"}:
        raise Forbidden(_("Only finance or an administrator can void an invoice."))
    session.execute(
        update(PurchaseContract)
        .where(PurchaseContract.id == item.contract_id)
        .values(invoiced_amount=PurchaseContract.invoiced_amount - Decimal(item.amount))
        .execution_options(synchronize_session=False)
    )
