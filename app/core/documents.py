"""Page mechanisms shared by business documents: lines entered on the document's own page (FAB has no inline
lines, #1795) and the workflow actions (submit, approve, reject with reason, back to draft) with their trail.

A view names the area's service that validates and saves the document; the view itself holds no rules.
"""

from __future__ import annotations

import re

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.urltools import get_filter_args, get_order_args, get_page_args, get_page_size_args
from flask_appbuilder.widgets import FormWidget
from flask_babel import gettext, lazy_gettext as _

from app.core import workflow
from app.core.errors import BusinessError
from app.core.pickers import LINE_PREFIX, PickerSource
from app.extensions import db

LINE_KEY = re.compile(r"^lines-(\d{1,3})-([a-z_]+)$")
MAX_LINES = 200


class LinesFormWidget(FormWidget):
    template = "core/lines_form.html"


class LineColumn:
    def __init__(self, key: str, label, kind: str = "text"):
        self.key = key
        self.label = label
        self.kind = kind  # product / qty / money / percent / text


DEFAULT_LINE_COLUMNS = [
    LineColumn("product_id", _("Product"), "product"),
    LineColumn("qty", _("Quantity"), "qty"),
    LineColumn("unit_price", _("Unit Price"), "money"),
    LineColumn("discount", _("Discount %"), "percent"),
    LineColumn("note", _("Note"), "text"),
]


class DocumentViewMixin:
    """The show page of a document: action buttons for its state, its lines, its approval trail."""

    show_template = "core/document_show.html"
    show_line_columns = [
        ("product", _("Product"), ""),
        ("qty", _("Quantity"), "text-right"),
        ("unit_price", _("Unit Price"), "text-right"),
        ("discount", _("Discount %"), "text-right"),
        ("amount", _("Amount"), "text-right"),
        ("note", _("Note"), ""),
    ]

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        # the page offers the buttons that apply to the document's state (document_buttons), not every action
        widgets = super()._get_show_widget(pk, item, widgets, actions, show_fieldsets)
        widgets["show"].template_args["actions"] = {}
        return widgets

    def document(self, pk):
        item = self._scoped_get(pk)
        if item is None:
            abort(404)
        return item

    def document_buttons(self, item) -> list[dict]:
        return []

    def approval_history(self, item):
        return None

    def document_sections(self, item) -> list[dict]:
        """Extra tables on the show page: {"id", "title", "headers": [...], "rows": [[...], ...]}."""
        return []

    def line_cell(self, line, key):
        from app.core.formatting import format_money, format_qty

        value = getattr(line, key, None)
        if value is None:
            return ""
        if key in ("qty", "shipped_qty", "returned_qty", "remaining_qty"):
            return format_qty(value)
        if key in ("unit_price", "amount", "floor_price", "net_price"):
            return format_money(value)
        if key == "discount":
            return f"{format_qty(value)}%"
        return value

    def button(self, name, label, icon, *, post=True, url=None, style="default", confirm=None) -> dict:
        """A button on the show page; posted buttons run the view's action of that name on this document."""
        return {
            "name": name,
            "label": label,
            "icon": icon,
            "post": post,
            "url": url,
            "style": style,
            "confirm": confirm,
        }

    def _back(self, pk):
        return url_for(f"{self.endpoint}.show", pk=pk)

    def comment_action(self, pk, run, *, title, done, required, comment_label=None, confirm=None):
        """A one-field form (reason/comment) that runs a service on one document in scope; `confirm` is asked
        before it is sent (confirm.js)."""
        item = self._scoped_get(pk)
        if item is None:
            abort(404)
        if request.method == "POST":
            try:
                run(item, request.form.get("comment"))
                db.session.commit()
                flash(done, "success")
                return redirect(self._back(pk))
            except BusinessError as e:
                db.session.rollback()
                flash(str(e), "danger")
        return self.render_template(
            "core/action_form.html",
            title=title,
            subject=str(item),
            choices=None,
            choice_label="",
            comment_label=comment_label or gettext("Reason"),
            comment_required=required,
            submit_label=title,
            back_url=self._back(pk),
            confirm=confirm,
        )

    def action_url(self, name, pk) -> str:
        return url_for(f"{self.endpoint}.action", name=name, pk=pk)

    def may(self, permission: str) -> bool:
        return self.appbuilder.sm.has_access(f"can_{permission}", self.class_permission_name)


class LinesFormMixin:
    """Add/edit pages whose form carries the header fields and a table of lines, saved in one transaction.

    The view implements save_document(item, rows, is_new) by calling its service, and may name a JSON endpoint
    (price_endpoint) that suggests a line's price from the customer, product and quantity.
    """

    add_widget = edit_widget = LinesFormWidget
    add_template = "core/lines_add.html"
    edit_template = "core/lines_edit.html"
    line_columns = DEFAULT_LINE_COLUMNS
    price_endpoint: str | None = None

    def save_document(self, item, rows: list[dict], is_new: bool) -> None:
        raise NotImplementedError

    @staticmethod
    def rows_from_request() -> list[dict]:
        rows: dict[int, dict] = {}
        for key, value in request.form.items():
            match = LINE_KEY.match(key)
            if match:
                rows.setdefault(int(match.group(1)), {})[match.group(2)] = value.strip()
        # a row left entirely blank is not a line
        lines = [rows[i] for i in sorted(rows) if any(rows[i].values())]
        if len(lines) > MAX_LINES:
            raise BusinessError(_("At most %(n)s lines per document.", n=MAX_LINES), 400)
        return lines

    def rows_from_item(self, item) -> list[dict]:
        return [
            {
                col.key: "" if getattr(line, col.key) is None else str(getattr(line, col.key))
                for col in self.line_columns
            }
            for line in item.lines
        ]

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        widgets = super()._get_add_widget(form, exclude_cols, widgets)
        widgets["add"].template_args.update(self._lines_args("add"))
        return widgets

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        widgets = super()._get_edit_widget(form, exclude_cols, widgets)
        widgets["edit"].template_args.update(self._lines_args("edit"))
        return widgets

    def line_choices(self, column: LineColumn) -> list[tuple[int, str]]:
        """Options of a select column of the lines that is not a picker (orders to invoice, promotions …)."""
        return []

    def line_picker_source(self, column: LineColumn) -> PickerSource | None:
        """Line columns searched on demand instead of listed: products (enabled ones), by model no. or name."""
        if column.kind != "product":
            return None
        from app.base_data.models import Product

        return PickerSource(Product, lambda query: query.filter(Product.enabled.is_(True)))

    def picker_source(self, name: str, kind: str) -> PickerSource | None:
        if name.startswith(LINE_PREFIX):
            column = next((c for c in self.line_columns if LINE_PREFIX + c.key == name), None)
            return self.line_picker_source(column) if column is not None else None
        return super().picker_source(name, kind)

    def _lines_args(self, kind: str) -> dict:
        rows = getattr(g, "line_rows", None) or [{}]
        pickers = {}
        for col in self.line_columns:
            source = self.line_picker_source(col)
            if source is not None:
                pickers[col.key] = {
                    "url": url_for(f"{self.endpoint}.picker", name=LINE_PREFIX + col.key, form=kind),
                    # only the rows' own choices are on the page, each with its label
                    "labels": source.labels(row.get(col.key) for row in rows),
                }
        return {
            "line_columns": self.line_columns,
            "line_rows": rows,
            "pickers": pickers,
            "choices": {
                c.key: self.line_choices(c)
                for c in self.line_columns
                if c.kind in ("product", "choice") and c.key not in pickers
            },
            "price_url": url_for(f"{self.endpoint}.{self.price_endpoint}") if self.price_endpoint else "",
        }

    def _save(self, form, item, is_new: bool) -> bool:
        try:
            rows = self.rows_from_request()
            g.line_rows = rows
            form.populate_obj(item)
            # the service may default the owner from the document (e.g. the customer's salesperson) before
            # the scope rule forces a salesperson's own documents to stay theirs
            self.save_document(item, rows, is_new)
            self._check(item)
            db.session.add(item)
            db.session.commit()
        except BusinessError as e:
            db.session.rollback()
            flash(str(e), "danger")
            return False
        g.saved_pk = item.id
        flash(self.add_row_message if is_new else self.edit_row_message, "success")
        return True

    def _echo_rows(self) -> None:
        """The entered lines go back into a form that failed validation (with their own refusal, if any)."""
        try:
            g.line_rows = self.rows_from_request()
        except BusinessError as e:
            flash(str(e), "danger")
            g.line_rows = []

    def initial_rows(self) -> list[dict]:
        """Lines a new document starts with (e.g. what an order still has to ship); none by default."""
        return []

    def _add(self):
        # ?_flt_0_<relation>=<id> fixes a relation (the order to ship, the contract to receive): FAB's convention
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method == "POST":
            self._fill_form_exclude_cols(exclude_cols, form)
            if form.validate():
                self.process_form(form, True)
                if self._save(form, self.datamodel.obj(), True):
                    return None
            else:
                self._echo_rows()
        else:
            g.line_rows = self.initial_rows()
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        try:
            self.ensure_editable(item)
        except BusinessError as e:
            # back to the document, saying why it cannot be changed
            flash(str(e), "danger")
            g.saved_pk = item.id
            return None
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            form._id = pk
            if form.validate():
                self.process_form(form, False)
                if self._save(form, item, False):
                    return None
                item = self.datamodel.get(pk, self._base_filters)
            else:
                self._echo_rows()
        else:
            form = self.edit_form.refresh(obj=item)
            self.prefill_form(form, pk)
            g.line_rows = self.rows_from_item(item)
        widgets = self._get_edit_widget(form=form)
        # the edit template shows the related lists too (payments of a contract …)
        return self._get_related_views_widgets(
            item, orders=get_order_args(), pages=get_page_args(), page_sizes=get_page_size_args(), widgets=widgets
        )

    def ensure_editable(self, item) -> None:
        """Raise BusinessError when the document's state or the user's role locks it; the edit page is refused."""

    def post_add_redirect(self):
        pk = getattr(g, "saved_pk", None)
        return redirect(url_for(f"{self.endpoint}.show", pk=pk)) if pk else super().post_add_redirect()

    def post_edit_redirect(self):
        pk = getattr(g, "saved_pk", None)
        return redirect(url_for(f"{self.endpoint}.show", pk=pk)) if pk else super().post_edit_redirect()


class WorkflowViewMixin(DocumentViewMixin):
    """Submit / approve / reject (reason required) / back to draft on a document page, through the area's services.

    `workflow_services` maps an action to `fn(session, item, user, comment)`; missing entries use the shared
    workflow directly.
    """

    workflow_services: dict = {}

    def _workflow(self, name):
        fn = self.workflow_services.get(name) or getattr(workflow, name)
        return fn

    def approval_history(self, item):
        return workflow.history(db.session, item)

    def workflow_buttons(self, item) -> list[dict]:
        """The workflow buttons that apply to the document's status and the user's permissions."""
        buttons = []
        status = item.status
        if status in (workflow.DRAFT, workflow.REJECTED) and self.may("write"):
            if status == workflow.REJECTED:
                buttons.append(
                    self.button("reopen", _("Back to draft"), "fa-undo", url=self.action_url("reopen", item.id))
                )
            buttons.append(
                self.button(
                    "submit", _("Submit"), "fa-paper-plane", url=self.action_url("submit", item.id), style="primary"
                )
            )
        if status == workflow.SUBMITTED and self.may("approve") and workflow.can_approve(db.session, item, g.user):
            buttons.append(
                self.button(
                    "approve",
                    _("Approve"),
                    "fa-check",
                    url=self.action_url("approve", item.id),
                    style="success",
                    confirm=_("Approve this document?"),
                )
            )
            buttons.append(
                self.button(
                    "reject",
                    _("Reject"),
                    "fa-times",
                    post=False,
                    url=url_for(f"{self.endpoint}.reject", pk=item.id),
                    style="danger",
                )
            )
        return buttons

    def document_buttons(self, item) -> list[dict]:
        return self.workflow_buttons(item)

    @fab_action("submit", _("Submit"), _("Submit the selected documents for approval?"), "fa-paper-plane")
    def submit(self, items):
        return self.run_action(
            items, lambda item: self._workflow("submit")(db.session, item, g.user, None), gettext("Submitted.")
        )

    @fab_action("approve", _("Approve"), _("Approve the selected documents?"), "fa-check")
    def approve(self, items):
        return self.run_action(
            items, lambda item: self._workflow("approve")(db.session, item, g.user, None), gettext("Approved.")
        )

    @fab_action("reopen", _("Back to draft"), None, "fa-undo", multiple=False)
    def reopen(self, items):
        return self.run_action(
            items, lambda item: self._workflow("reopen")(db.session, item, g.user, None), gettext("Back to draft.")
        )

    @fab_action("reject_start", _("Reject"), None, "fa-times", multiple=False, single=True)
    def reject_start(self, item):
        return redirect(url_for(f"{self.endpoint}.reject", pk=item.id))

    @expose("/reject/<int:pk>", methods=["GET", "POST"])
    @has_access
    def reject(self, pk):
        return self.comment_action(
            pk,
            lambda item, comment: self._workflow("reject")(db.session, item, g.user, comment),
            title=gettext("Reject"),
            done=gettext("Rejected."),
            required=True,
            confirm=gettext("Reject this document?"),
        )
