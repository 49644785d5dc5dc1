"""Rules of base data: validation (pages, API and import call the same functions), import specs, seeding."""

import csv
from decimal import Decimal
from pathlib import Path

from flask_babel import lazy_gettext as _
from sqlalchemy import func

from app.base_data import models as m
from app.core import excel
from app.core.errors import BusinessError
from app.core.validation import ensure_non_negative, ensure_unique, strip_text
from app.extensions import db

DATA_DIR = Path(__file__).parent / "data"

DICTIONARY_LABELS = {
    m.CustomerNature: _("Customer Nature"),
    m.ProductCategory: _("Product Category"),
    m.Unit: _("Unit"),
    m.CustomerType: _("Customer Type"),
    m.CustomerSource: _("Customer Source"),
    m.FollowupMethod: _("Follow-up Method"),
    m.Warehouse: _("Warehouse Name"),
    m.StockMoveType: _("Stock Move Type"),
    m.ChannelType: _("Channel Type"),
    m.ChannelLevel: _("Channel Level"),
    m.ExpenseType: _("Expense Type"),
    m.OrderType: _("Order Type"),
    m.PaymentTerm: _("Payment Terms"),
}


# ------------------------------------------------------------------ validation


def validate_dictionary(item) -> None:
    strip_text(item, "name")
    if not item.name:
        raise BusinessError(_("Name is required."), 400)
    ensure_unique(item, "name", _("Name"))
    if isinstance(item, m.StockMoveType) and item.direction not in m.MOVE_DIRECTIONS:
        raise BusinessError(_("Direction must be stock in or stock out."), 400)
    if isinstance(item, m.ProductCategory):
        validate_category_parent(item)
    if isinstance(item, m.PaymentTerm):
        validate_payment_term(item)


def validate_payment_term(item: m.PaymentTerm) -> None:
    """Cash and prepayment are due on the order date; a cash discount needs a window shorter than the term."""
    if item.kind not in m.TERM_KINDS:
        raise BusinessError(_("Choose the kind of payment term."), 400)
    item.days = int(item.days or 0)
    item.discount_days = int(item.discount_days or 0)
    item.discount_percent = Decimal(item.discount_percent or 0)
    if item.kind != m.TERM_CREDIT:
        item.days = 0
    if not 0 <= item.days <= 3650:
        raise BusinessError(_("Payment terms must be between 0 and 3650 days."), 400)
    if not Decimal(0) <= item.discount_percent < Decimal(100):
        raise BusinessError(_("The cash discount must be at least 0 and below 100%%."), 400)
    if item.discount_percent > 0 and not 0 < item.discount_days <= max(item.days, 0) + 365:
        raise BusinessError(_("A cash discount needs the number of days it is offered for."), 400)
    if item.discount_percent == 0:
        item.discount_days = 0


def validate_category_parent(item: m.ProductCategory) -> None:
    node, steps = item.parent, 0
    while node is not None:
        if node is item or (item.id is not None and node.id == item.id):
            raise BusinessError(_("A category cannot be placed under itself or one of its sub-categories."), 400)
        node, steps = node.parent, steps + 1
        if steps > 50:
            raise BusinessError(_("The category tree is too deep."), 400)


def validate_region(item: m.Region) -> None:
    strip_text(item, "code", "name")
    if not item.code or not item.name:
        raise BusinessError(_("Code and name are required."), 400)
    ensure_unique(item, "code", _("Region code"))
    if item.level not in ("province", "city"):
        raise BusinessError(_("Level must be province or city."), 400)
    if item.level == "city" and (item.parent is None or item.parent.level != "province"):
        raise BusinessError(_("A city must belong to a province."), 400)
    if item.level == "province" and item.parent is not None:
        raise BusinessError(_("A province has no parent."), 400)


def validate_product(item: m.Product) -> None:
    strip_text(item, "model_no", "name", "spec")
    if not item.model_no or not item.name:
        raise BusinessError(_("Model number and name are required."), 400)
    ensure_unique(item, "model_no", _("Model No."))
    for attr, label in (
        ("purchase_price", _("Purchase Price")),
        ("sale_price", _("Sale Price")),
        ("floor_price", _("Red-line Price")),
        ("safety_min", _("Safety Stock Min")),
        ("safety_max", _("Safety Stock Max")),
    ):
        ensure_non_negative(getattr(item, attr), label)
    for attr in ("purchase_price", "sale_price", "floor_price"):
        if getattr(item, attr) is None:
            setattr(item, attr, 0)
    if item.floor_price and item.sale_price is not None and item.floor_price > item.sale_price:
        raise BusinessError(_("The red-line price cannot be above the sale price."), 400, field=_("Red-line Price"))
    if item.safety_min is not None and item.safety_max is not None and item.safety_min > item.safety_max:
        raise BusinessError(_("Safety stock minimum cannot exceed the maximum."), 400, field=_("Safety Stock Min"))


def validate_profile(item: m.SalespersonProfile) -> None:
    strip_text(item, "phone", "department")
    if item.user is None and item.user_id is None:
        raise BusinessError(_("User is required."), 400)
    ensure_unique(item, "user_id", _("User"), case_insensitive=False)


# ------------------------------------------------------------------ import specs


def _lookup_by_name(model, attr: str = "name", label=None):
    """An import column naming a record by its name (or another column): None when there is none; a row error
    when several records carry it (end customers are unique per name and region, not by name alone)."""
    column = getattr(model, attr)

    def find(text):
        rows = db.session.query(model).filter(func.lower(column) == text.strip().lower()).limit(2).all()
        if len(rows) > 1:
            raise excel.RowError(
                label or attr, _("“%(v)s” matches several records; it cannot tell which one is meant.", v=text)
            )
        return rows[0] if rows else None

    return find


def _exists(model):
    def check(key, value):
        col = getattr(model, key)
        return db.session.query(model.id).filter(func.lower(col) == str(value).strip().lower()).first() is not None

    return check


def _creator(model, validator):
    def create(values: dict):
        item = model(**{k: v for k, v in values.items() if v is not None})
        validator(item)
        return item

    return create


def dictionary_import_spec(model) -> excel.ImportSpec:
    label = DICTIONARY_LABELS[model]
    fields = [
        excel.Field("name", _("Name"), required=True, max_length=64, english="Name"),
        excel.Field("sort_order", _("Sort Order"), excel.INT, english="Sort Order"),
        excel.Field("enabled", _("Enabled"), excel.BOOL, english="Enabled", help=_("是 or 否; empty means 是")),
        excel.Field("note", _("Note"), english="Note", max_length=2000),
    ]
    if model is m.StockMoveType:
        fields.insert(
            1,
            excel.Field(
                "direction",
                _("Direction"),
                required=True,
                english="Direction",
                lookup=lambda t: {"入库": "in", "出库": "out", "in": "in", "out": "out"}.get(t.strip().lower()),
                lookup_error=_("Write 入库 or 出库."),
                help=_("入库 or 出库"),
            ),
        )
    if model is m.PaymentTerm:
        kinds = {"现结": m.TERM_CASH, "月结": m.TERM_CREDIT, "账期": m.TERM_CREDIT, "预付款": m.TERM_PREPAID}
        fields[1:1] = [
            excel.Field(
                "kind",
                _("Kind"),
                required=True,
                english="Kind",
                lookup=lambda t: kinds.get(t.strip()) or (t.strip() if t.strip() in m.TERM_KINDS else None),
                lookup_error=_("Write 现结, 月结 or 预付款."),
                help=_("现结, 月结 or 预付款"),
            ),
            excel.Field("days", _("Days"), excel.INT, english="Days"),
            excel.Field("discount_percent", _("Cash Discount %"), excel.DECIMAL, english="Cash Discount %"),
            excel.Field("discount_days", _("Discount Days"), excel.INT, english="Discount Days"),
        ]
    if model is m.Warehouse:
        fields[1:1] = [
            excel.Field("address", _("Address"), max_length=255, english="Address"),
            excel.Field("keeper", _("Keeper"), max_length=64, english="Keeper"),
            excel.Field("phone", _("Phone"), max_length=32, english="Phone"),
        ]
    if model is m.ProductCategory:
        fields.insert(
            1,
            excel.Field(
                "parent",
                _("Parent Category"),
                english="Parent Category",
                lookup=_lookup_by_name(m.ProductCategory),
                lookup_error=_("No such category; import parents first."),
                help=_("Name of an existing category"),
            ),
        )

    def create(values):
        item = model(**{k: v for k, v in values.items() if v is not None})
        validate_dictionary(item)
        return item

    return excel.ImportSpec(
        name=model.__tablename__,
        title=label,
        fields=fields,
        create=create,
        unique_keys=["name"],
        exists=_exists(model),
    )


def product_import_spec() -> excel.ImportSpec:
    fields = [
        excel.Field("model_no", _("Model No."), required=True, max_length=64, english="Model No."),
        excel.Field("name", _("Product Name"), required=True, max_length=128, english="Product Name"),
        excel.Field("spec", _("Specification"), max_length=255, english="Specification"),
        excel.Field(
            "category",
            _("Product Category"),
            english="Product Category",
            lookup=_lookup_by_name(m.ProductCategory),
            lookup_error=_("No such product category."),
        ),
        excel.Field("unit", _("Unit"), english="Unit", lookup=_lookup_by_name(m.Unit), lookup_error=_("No such unit.")),
        excel.Field("purchase_price", _("Purchase Price"), excel.MONEY, english="Purchase Price"),
        excel.Field("sale_price", _("Sale Price"), excel.MONEY, english="Sale Price"),
        excel.Field("floor_price", _("Red-line Price"), excel.MONEY, english="Red-line Price"),
        excel.Field("safety_min", _("Safety Stock Min"), excel.QTY, english="Safety Stock Min"),
        excel.Field("safety_max", _("Safety Stock Max"), excel.QTY, english="Safety Stock Max"),
        excel.Field("enabled", _("Enabled"), excel.BOOL, english="Enabled"),
        excel.Field("note", _("Note"), max_length=2000, english="Note"),
    ]
    return excel.ImportSpec(
        name="product",
        title=_("Products"),
        fields=fields,
        create=_creator(m.Product, validate_product),
        unique_keys=["model_no"],
        exists=_exists(m.Product),
    )


def region_import_spec() -> excel.ImportSpec:
    def parent_by_code(text):
        return db.session.query(m.Region).filter(m.Region.code == text.strip()).one_or_none()

    fields = [
        excel.Field("code", _("Region code"), required=True, max_length=12, english="Code"),
        excel.Field("name", _("Name"), required=True, max_length=64, english="Name"),
        excel.Field(
            "parent",
            _("Parent code"),
            english="Parent code",
            lookup=parent_by_code,
            lookup_error=_("No region with this code."),
        ),
        excel.Field(
            "level",
            _("Level"),
            required=True,
            english="Level",
            lookup=lambda t: {"省": "province", "市": "city", "province": "province", "city": "city"}.get(
                t.strip().lower()
            ),
            lookup_error=_("Write 省 or 市."),
        ),
    ]
    return excel.ImportSpec(
        name="region",
        title=_("Province & City"),
        fields=fields,
        create=_creator(m.Region, validate_region),
        unique_keys=["code"],
        exists=_exists(m.Region),
    )


# ------------------------------------------------------------------ seeding (idempotent: adds what is missing)

DEFAULT_ENTRIES = {
    m.CustomerNature: ["企业", "事业单位", "政府机关", "社会团体", "个人"],
    m.Unit: ["个", "台", "套", "件", "箱", "米", "千克", "吨", "批"],
    m.CustomerType: ["代理商", "经销商", "系统集成商", "设计院", "终端用户"],
    m.CustomerSource: ["网络推广", "展会", "老客户介绍", "电话营销", "主动来访", "招投标"],
    m.FollowupMethod: ["电话", "上门拜访", "微信", "邮件", "视频会议"],
    m.ChannelType: ["代理商", "经销商", "集成商", "设计院"],
    m.ChannelLevel: ["A", "B", "C", "D", "E"],
    m.ExpenseType: ["差旅费", "交通费", "业务招待费", "通讯费", "办公费", "其他"],
    m.OrderType: ["标准订单", "项目订单", "样品订单", "维保订单"],
    m.Warehouse: ["主仓库"],
    m.ProductCategory: ["默认分类"],
}
DEFAULT_MOVE_TYPES = [
    ("采购入库", m.MOVE_IN),
    ("退货入库", m.MOVE_IN),
    ("盘盈入库", m.MOVE_IN),
    ("调拨入库", m.MOVE_IN),
    ("其他入库", m.MOVE_IN),
    ("销售出库", m.MOVE_OUT),
    ("盘亏出库", m.MOVE_OUT),
    ("调拨出库", m.MOVE_OUT),
    ("其他出库", m.MOVE_OUT),
]


# 付款条件: (name, kind, days, cash discount %, discount days)
DEFAULT_PAYMENT_TERMS = [
    ("现结", m.TERM_CASH, 0, 0, 0),
    ("预付款", m.TERM_PREPAID, 0, 0, 0),
    ("月结30天", m.TERM_CREDIT, 30, 0, 0),
    ("月结60天", m.TERM_CREDIT, 60, 0, 0),
    ("2/10 月结30天", m.TERM_CREDIT, 30, 2, 10),
]


def seed_dictionaries(session) -> int:
    added = 0
    existing = {n for (n,) in session.query(m.PaymentTerm.name)}
    for order, (name, kind, days, pct, pct_days) in enumerate(DEFAULT_PAYMENT_TERMS, start=1):
        if name not in existing:
            session.add(
                m.PaymentTerm(
                    name=name, kind=kind, days=days, discount_percent=pct, discount_days=pct_days, sort_order=order
                )
            )
            added += 1
    for model, names in DEFAULT_ENTRIES.items():
        existing = {n for (n,) in session.query(model.name)}
        for order, name in enumerate(names, start=1):
            if name not in existing:
                session.add(model(name=name, sort_order=order))
                added += 1
    existing = {n for (n,) in session.query(m.StockMoveType.name)}
    for order, (name, direction) in enumerate(DEFAULT_MOVE_TYPES, start=1):
        if name not in existing:
            session.add(m.StockMoveType(name=name, direction=direction, sort_order=order))
            added += 1
    session.flush()
    return added


def seed_regions(session) -> int:
    """All provincial-level divisions and their prefecture-level cities, from the shipped data file."""
    with open(DATA_DIR / "regions.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_code = {code: rid for code, rid in session.query(m.Region.code, m.Region.id)}
    added = 0
    for level in ("province", "city"):
        for order, row in enumerate((r for r in rows if r["level"] == level), start=1):
            if row["code"] in by_code:
                continue
            region = m.Region(
                code=row["code"],
                name=row["name"],
                level=level,
                sort_order=order,
                parent_id=by_code.get(row["parent_code"]) if row["parent_code"] else None,
            )
            session.add(region)
            session.flush()
            by_code[region.code] = region.id
            added += 1
    return added
