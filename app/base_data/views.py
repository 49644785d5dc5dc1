"""Pages of base data. Rules live in services.py; these classes only declare columns and labels."""

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _

from app.base_data import models as m, services
from app.core.views import BaseModelView

COMMON_LABELS = {
    "name": _("Name"),
    "sort_order": _("Sort Order"),
    "enabled": _("Enabled"),
    "note": _("Note"),
    "created_at": _("Created At"),
    "updated_at": _("Updated At"),
}


def dictionary_view(model, perm: str):
    """One page class per dictionary, sharing columns, labels, validation and import."""
    extra = []
    labels = dict(COMMON_LABELS)
    if model is m.StockMoveType:
        extra = ["direction"]
        labels["direction"] = _("Direction")
        labels["direction_label"] = _("Direction")
    if model is m.Warehouse:
        extra = ["address", "keeper", "phone"]
        labels.update(address=_("Address"), keeper=_("Keeper"), phone=_("Phone"))
    if model is m.ProductCategory:
        extra = ["parent"]
        labels.update(parent=_("Parent Category"), path=_("Category Path"))
    if model is m.PaymentTerm:
        extra = ["kind", "days", "discount_percent", "discount_days"]
        labels.update(
            kind=_("Kind"),
            kind_label=_("Kind"),
            days=_("Days"),
            discount_percent=_("Cash Discount %"),
            discount_days=_("Discount Days"),
        )
    form_columns = ["name", *extra, "sort_order", "enabled", "note"]
    list_extra = {
        m.StockMoveType: ["direction_label"],
        m.ProductCategory: ["path"],
        m.PaymentTerm: ["kind_label", "days", "discount_percent", "discount_days"],
    }.get(model, extra)
    attrs = {
        "datamodel": SQLAInterface(model),
        "class_permission_name": perm,
        "title": services.DICTIONARY_LABELS[model],
        "list_columns": ["name", *list_extra, "sort_order", "enabled", "note"],
        "show_columns": form_columns + ["created_at", "updated_at"],
        "add_columns": form_columns,
        "edit_columns": form_columns,
        "search_columns": ["name", "enabled"] + (["parent"] if model is m.ProductCategory else []),
        "order_columns": ["name", "sort_order", "enabled"],
        "base_order": ("sort_order", "asc"),
        "label_columns": labels,
        "validator": staticmethod(services.validate_dictionary),
        "import_spec": staticmethod(lambda: services.dictionary_import_spec(model)),
    }
    if model is m.StockMoveType:
        attrs["choice_fields"] = {"direction": m.MOVE_DIRECTIONS}
        attrs["export_columns"] = ["name", "direction_label", "sort_order", "enabled", "note"]
    if model is m.PaymentTerm:
        attrs["choice_fields"] = {"kind": m.TERM_KINDS}
        attrs["export_columns"] = ["name", *list_extra, "sort_order", "enabled", "note"]
    return type(f"{model.__name__}View", (BaseModelView,), attrs)


class RegionView(BaseModelView):
    datamodel = SQLAInterface(m.Region)
    class_permission_name = "Region"
    title = _("Province & City")
    list_columns = ["code", "name", "parent", "level_label", "sort_order", "enabled"]
    show_columns = ["code", "name", "parent", "level", "sort_order", "enabled"]
    add_columns = edit_columns = ["code", "name", "parent", "level", "sort_order", "enabled"]
    search_columns = ["code", "name", "parent", "level", "enabled"]
    order_columns = ["code", "name", "sort_order"]
    base_order = ("code", "asc")
    label_columns = {
        "code": _("Region code"),
        "name": _("Name"),
        "parent": _("Province"),
        "level": _("Level"),
        "level_label": _("Level"),
        "sort_order": _("Sort Order"),
        "enabled": _("Enabled"),
    }
    validator = staticmethod(services.validate_region)
    import_spec = staticmethod(services.region_import_spec)
    export_columns = ["code", "name", "parent.name", "level_label", "enabled"]
    page_size = 50

    choice_fields = {"level": m.REGION_LEVELS}

    def __init__(self, **kwargs):
        self.label_columns = dict(self.label_columns, **{"parent.name": _("Province")})
        super().__init__(**kwargs)


class ProductView(BaseModelView):
    datamodel = SQLAInterface(m.Product)
    class_permission_name = "Product"
    title = _("Products")
    list_columns = [
        "model_no",
        "name",
        "spec",
        "category",
        "unit",
        "purchase_price",
        "sale_price",
        "floor_price",
        "safety_min",
        "safety_max",
        "enabled",
    ]
    show_columns = list_columns + ["note", "created_at", "updated_at"]
    add_columns = edit_columns = [
        "model_no",
        "name",
        "spec",
        "category",
        "unit",
        "purchase_price",
        "sale_price",
        "floor_price",
        "safety_min",
        "safety_max",
        "enabled",
        "note",
    ]
    search_columns = ["model_no", "name", "category", "unit", "enabled", "sale_price"]
    order_columns = ["model_no", "name", "purchase_price", "sale_price", "floor_price", "updated_at"]
    base_order = ("model_no", "asc")
    label_columns = {
        "model_no": _("Model No."),
        "name": _("Product Name"),
        "spec": _("Specification"),
        "category": _("Product Category"),
        "unit": _("Unit"),
        "purchase_price": _("Purchase Price"),
        "sale_price": _("Sale Price"),
        "floor_price": _("Red-line Price"),
        "safety_min": _("Safety Stock Min"),
        "safety_max": _("Safety Stock Max"),
        "enabled": _("Enabled"),
        "note": _("Note"),
        "created_at": _("Created At"),
        "updated_at": _("Updated At"),
        "category.name": _("Product Category"),
        "unit.name": _("Unit"),
    }
    export_columns = [
        "model_no",
        "name",
        "spec",
        "category.name",
        "unit.name",
        "purchase_price",
        "sale_price",
        "floor_price",
        "safety_min",
        "safety_max",
        "enabled",
        "note",
    ]
    validator = staticmethod(services.validate_product)
    import_spec = staticmethod(services.product_import_spec)


class SalespersonProfileView(BaseModelView):
    datamodel = SQLAInterface(m.SalespersonProfile)
    class_permission_name = "SalespersonProfile"
    title = _("Salesperson Profiles")
    list_columns = ["user", "phone", "region", "department", "holding_limit", "reminder_days"]
    show_columns = add_columns = ["user", "phone", "region", "department", "holding_limit", "reminder_days"]
    edit_columns = ["phone", "region", "department", "holding_limit", "reminder_days"]
    search_columns = ["user", "region", "department", "phone"]
    label_columns = {
        "user": _("User"),
        "phone": _("Phone"),
        "region": _("Region"),
        "department": _("Department"),
        "user.username": _("User"),
        "region.name": _("Region"),
    }
    export_columns = ["user.username", "phone", "region.name", "department"]
    validator = staticmethod(services.validate_profile)
