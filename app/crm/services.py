"""CRM rules: customer validation, the public pool (claim / approve / release / transfer), churn and auto-upgrade,
follow-up reminders. Pages, the REST API, imports and the CLI all call these functions."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _
from sqlalchemy import func, select

from app.core import excel, workflow
from app.core.errors import BusinessError, Forbidden, NotFound
from app.core.formatting import local_today
from app.core.models import utcnow
from app.core.scope import current_user_id, ensure_visible, sees_all
from app.core.validation import ensure_non_negative, strip_text
from app.crm.models import (
    CHANNEL,
    END,
    ChannelCustomer,
    Contact,
    CustomerEvent,
    DeliveryAddress,
    EndCustomer,
    Followup,
    PoolClaim,
)
from app.extensions import db

MANAGER_ROLES = {"Admin", "SalesManager"}

DEFAULTS = {
    "CRM_HOLDING_LIMIT": 200,  # private customers per salesperson (profile may override)
    "CRM_CHURN_LOW_LEVEL_DAYS": 30,  # level D/E channel: no deal within N days of assignment
    "CRM_CHURN_LOW_LEVELS": ("D", "E"),
    "CRM_CHURN_HIGH_LEVEL_DAYS": 90,  # level C and above: no deal in N days
    "CRM_CHURN_END_CUSTOMER_DAYS": 180,  # end customer: no follow-up or order in N days → review
    "CRM_UPGRADE_DEALS": 3,  # referred end customers' deals that lift a channel one level
    "CRM_REMINDER_DAYS": 3,
}


def setting(key: str):
    return current_app.config.get(key, DEFAULTS[key])


def model_for(kind: str):
    if kind == CHANNEL:
        return ChannelCustomer
    if kind == END:
        return EndCustomer
    raise NotFound(_("Unknown customer kind."))


def roles_of(user) -> set[str]:
    return {r.name for r in user.roles}


def is_manager(user) -> bool:
    return bool(roles_of(user) & MANAGER_ROLES)


# ------------------------------------------------------------------ validation


def existing_customers(model, names) -> dict:
    """{(lower name, region id): customer} of the customers carrying any of these names (an import checks a whole
    file against it in a few queries)."""
    wanted = {str(n).strip().lower() for n in names if n}
    if not wanted:
        return {}
    if len(wanted) <= 500:
        matches = db.session.query(model).filter(func.lower(model.name).in_(sorted(wanted))).all()
    else:
        # a big file: one pass over the names (no index serves lower(name)), then the matching rows by id
        names = db.session.connection().execute(select(model.id, model.name))
        ids = [pk for pk, name in names if name.lower() in wanted]
        matches = [
            c for i in range(0, len(ids), 500) for c in db.session.query(model).filter(model.id.in_(ids[i : i + 500]))
        ]
    return {(c.name.lower(), c.region_id): c for c in matches}


def check_customer(values: dict, model, known: dict | None = None, exclude_id=None) -> dict:
    """The customer rules on plain values, shared by the page/API save (validate_customer) and the bulk import:
    returns the values normalized (texts stripped, defaults filled) or raises BusinessError.

    `values` carries name, phone, address, credit_limit, region_id, owner_id (and stars, referrer for end
    customers). `known`: existing_customers() of an import, instead of one query per row; rows of the same file
    are added to it, so a file naming a customer twice in one region is refused too."""
    for key in ("name", "phone", "address"):
        value = values.get(key)
        if isinstance(value, str):
            values[key] = value.strip() or None
    name = values.get("name")
    if not name:
        raise BusinessError(_("Customer name is required."), 400)
    ensure_non_negative(values.get("credit_limit"), _CREDIT_LIMIT)
    if values.get("credit_limit") is None:
        values["credit_limit"] = 0
    if model is EndCustomer:
        ensure_visible(values.get("referrer"))
        if values.get("stars") is None:
            values["stars"] = 3
        if not 1 <= int(values["stars"]) <= 5:
            raise BusinessError(_("Star rating must be between 1 and 5."), 400)
    region_id = values.get("region_id")
    if known is not None:
        key = (name.lower(), region_id)
        existing = known.get(key)
        known.setdefault(key, _FileRow(name, values.get("owner_id")))
    else:
        query = db.session.query(model).filter(func.lower(model.name) == name.lower())
        query = query.filter(model.region_id.is_(None) if region_id is None else model.region_id == region_id)
        if exclude_id is not None:
            query = query.filter(model.id != exclude_id)
        with db.session.no_autoflush:
            existing = query.first()
    if existing is not None:
        if existing.in_pool:
            raise BusinessError(
                _("“%(name)s” already exists in this region, in the public pool.", name=existing.name), 409
            )
        if sees_all() or existing.owner_id == values.get("owner_id"):
            owner = existing.owner.get_full_name() if existing.owner else ""
            raise BusinessError(
                _("“%(name)s” already exists in this region (owner: %(owner)s).", name=existing.name, owner=owner), 409
            )
        raise BusinessError(_("“%(name)s” already exists in this region.", name=existing.name), 409)
    return values


_CREDIT_LIMIT = _("Credit Limit")


class _FileRow:
    """A customer named earlier in the same import file, as check_customer() sees it."""

    __slots__ = ("name", "owner_id")
    in_pool = False
    owner = None

    def __init__(self, name, owner_id):
        self.name, self.owner_id = name, owner_id


_CUSTOMER_RULE_FIELDS = ("name", "phone", "address", "credit_limit", "owner_id", "stars", "referrer")


def validate_customer(item, known: dict | None = None) -> None:
    """The customer rules applied to a model object (pages and API)."""
    values = {k: getattr(item, k) for k in _CUSTOMER_RULE_FIELDS if hasattr(item, k)}
    region = getattr(item, "region", None)
    values["region_id"] = region.id if region is not None else item.region_id
    checked = check_customer(values, type(item), known, exclude_id=item.id)
    for key in ("name", "phone", "address", "credit_limit", "stars"):
        if key in checked and getattr(item, key, None) != checked[key]:
            setattr(item, key, checked[key])


def on_customer_saved(item) -> None:
    """Keep the trail and the ownership fields in step after a page/API save."""
    if item.in_pool:
        item.owner = None
        item.owner_id = None
    elif item.assigned_at is None:
        item.assigned_at = utcnow()


def sync_children_owner(item) -> None:
    """Contacts and delivery addresses follow their customer's owner (they share its data scope)."""
    for child in list(getattr(item, "contacts", [])) + list(getattr(item, "delivery_addresses", [])):
        child.owner_id = item.owner_id


# ------------------------------------------------------------------ trail


def record_event(
    session, item, action: str, user, from_owner_id=None, to_owner_id=None, reason=None, churn: bool = False
) -> CustomerEvent:
    event = CustomerEvent(
        kind=type(item).__kind__,
        customer_id=item.id,
        action=action,
        from_owner_id=from_owner_id,
        to_owner_id=to_owner_id,
        user_id=getattr(user, "id", None),
        reason=reason,
        counts_as_churn=churn,
    )
    session.add(event)
    return event


def trail(session, item) -> list[CustomerEvent]:
    return (
        session.query(CustomerEvent)
        .filter(CustomerEvent.kind == type(item).__kind__, CustomerEvent.customer_id == item.id)
        .order_by(CustomerEvent.id)
        .all()
    )


# ------------------------------------------------------------------ holding limit


def holding_limit(user) -> int:
    profile = next(iter(getattr(user, "profile_rows", []) or []), None)
    override = getattr(profile, "holding_limit", None) if profile is not None else None
    return int(override) if override is not None else int(setting("CRM_HOLDING_LIMIT"))


def owned_count(session, user_id: int) -> int:
    return sum(
        session.query(func.count(m.id)).filter(m.owner_id == user_id, m.in_pool.is_(False)).scalar() or 0
        for m in (ChannelCustomer, EndCustomer)
    )


def ensure_can_hold_one_more(session, user) -> None:
    limit, count = holding_limit(user), owned_count(session, user.id)
    if count + 1 > limit:
        raise BusinessError(
            _(
                "%(name)s already holds %(count)s customers; the limit is %(limit)s.",
                name=user.get_full_name(),
                count=count,
                limit=limit,
            ),
            409,
        )


# ------------------------------------------------------------------ pool


def _assign(session, item, new_owner, user, action: str, reason=None, churn: bool = False) -> None:
    old = item.owner_id
    item.owner_id = new_owner.id if new_owner is not None else None
    item.owner = new_owner
    item.in_pool = new_owner is None
    item.assigned_at = utcnow() if new_owner is not None else None
    sync_children_owner(item)
    record_event(session, item, action, user, old, item.owner_id, reason, churn)


def put_in_pool(session, item, user, reason=None) -> None:
    """Admin adds a customer to the pool (new, imported, or taken back)."""
    if not is_manager(user):
        raise Forbidden(_("Only an administrator or sales manager can put customers into the pool."))
    _assign(session, item, None, user, "to_pool", reason)


def request_claim(session, item, user, reason: str | None = None) -> PoolClaim:
    if not item.in_pool:
        raise BusinessError(_("“%(name)s” is not in the public pool.", name=item.name), 409)
    pending = (
        session.query(PoolClaim)
        .filter(
            PoolClaim.kind == type(item).__kind__,
            PoolClaim.customer_id == item.id,
            PoolClaim.status == workflow.SUBMITTED,
        )
        .first()
    )
    if pending is not None:
        raise BusinessError(_("“%(name)s” already has a claim waiting for approval.", name=item.name), 409)
    ensure_can_hold_one_more(session, user)
    claim = PoolClaim(
        kind=type(item).__kind__, customer_id=item.id, customer_name=item.name, reason=reason, owner_id=user.id
    )
    session.add(claim)
    session.flush()
    workflow.submit(session, claim, user, reason)
    record_event(session, item, "claim_request", user, None, user.id, reason)
    return claim


def claim_customer(session, claim: PoolClaim):
    return session.get(model_for(claim.kind), claim.customer_id)


def approve_claim(session, claim: PoolClaim, user, comment: str | None = None) -> None:
    item = claim_customer(session, claim)
    if item is None or not item.in_pool:
        raise BusinessError(_("The customer is no longer in the public pool."), 409)
    requester = claim.owner
    ensure_can_hold_one_more(session, requester)
    workflow.approve(session, claim, user, comment)
    session.refresh(claim)
    if claim.status == workflow.APPROVED:
        _assign(session, item, requester, user, "claim_approved", comment)


def reject_claim(session, claim: PoolClaim, user, comment: str | None) -> None:
    workflow.reject(session, claim, user, comment)
    item = claim_customer(session, claim)
    if item is not None:
        record_event(session, item, "claim_rejected", user, None, claim.owner_id, comment)


def release(session, item, user, reason: str | None = None) -> None:
    """转入公共池 by its owner (or a manager): kept in the trail, not churn."""
    if item.in_pool:
        raise BusinessError(_("“%(name)s” is already in the public pool.", name=item.name), 409)
    if item.owner_id != user.id and not is_manager(user):
        raise NotFound(_("Not found."))
    _assign(session, item, None, user, "release", reason, churn=False)


def transfer(session, item, new_owner, user, reason: str | None = None) -> None:
    """转移 between salespeople by Admin/SalesManager, recorded."""
    if not is_manager(user):
        raise Forbidden(_("Only an administrator or sales manager can transfer customers."))
    if new_owner is None or "Salesperson" not in roles_of(new_owner) or not new_owner.active:
        raise BusinessError(_("Customers can only be transferred to an active salesperson."), 400)
    if item.owner_id == new_owner.id:
        raise BusinessError(
            _("“%(name)s” already belongs to %(owner)s.", name=item.name, owner=new_owner.get_full_name()), 409
        )
    ensure_can_hold_one_more(session, new_owner)
    _assign(session, item, new_owner, user, "transfer", reason)


# ------------------------------------------------------------------ churn and upgrade (cron-safe)


def _days_since(value, today: dt.date) -> int | None:
    if value is None:
        return None
    day = value.date() if isinstance(value, dt.datetime) else value
    return (today - day).days


def channel_churn_candidates(session, today: dt.date) -> list[tuple[ChannelCustomer, str]]:
    low_levels = set(setting("CRM_CHURN_LOW_LEVELS"))
    low_days, high_days = int(setting("CRM_CHURN_LOW_LEVEL_DAYS")), int(setting("CRM_CHURN_HIGH_LEVEL_DAYS"))
    out = []
    for c in session.query(ChannelCustomer).filter(
        ChannelCustomer.in_pool.is_(False), ChannelCustomer.owner_id.isnot(None)
    ):
        level = c.level.name if c.level is not None else "E"
        assigned = _days_since(c.assigned_at, today)
        last_deal = _days_since(c.last_deal_at, today)
        if level in low_levels:
            # no deal since assignment, and the window after assignment has passed
            deal_after_assignment = (
                c.last_deal_at is not None and c.assigned_at is not None and c.last_deal_at >= c.assigned_at.date()
            )
            if assigned is not None and assigned > low_days and not deal_after_assignment:
                out.append(
                    (
                        c,
                        str(
                            _("Level %(level)s: no deal within %(days)s days of assignment", level=level, days=low_days)
                        ),
                    )
                )
        else:
            since = last_deal if last_deal is not None else assigned
            if since is not None and since > high_days:
                out.append((c, str(_("Level %(level)s: no deal in %(days)s days", level=level, days=high_days))))
    return out


def end_churn_candidates(session, today: dt.date) -> list[tuple[EndCustomer, str]]:
    days = int(setting("CRM_CHURN_END_CUSTOMER_DAYS"))
    out = []
    for c in session.query(EndCustomer).filter(
        EndCustomer.in_pool.is_(False), EndCustomer.owner_id.isnot(None), EndCustomer.churn_pending.is_(False)
    ):
        activity = max(
            filter(None, [c.last_followup_at, c.last_deal_at, c.assigned_at.date() if c.assigned_at else None]),
            default=None,
        )
        since = _days_since(activity, today)
        if since is not None and since > days:
            out.append((c, str(_("No follow-up or order in %(days)s days", days=days))))
    return out


def apply_churn(session, today: dt.date | None = None) -> dict:
    """Channels past their window go to the pool and count as churn; end customers are marked for Admin review.
    Running it again the same day changes nothing more."""
    today = today or local_today()
    moved = 0
    for customer, reason in channel_churn_candidates(session, today):
        _assign(session, customer, None, None, "churn", reason, churn=True)
        customer.churned = True
        moved += 1
    marked = 0
    for customer, reason in end_churn_candidates(session, today):
        customer.churn_pending = True
        record_event(session, customer, "churn_candidate", None, customer.owner_id, customer.owner_id, reason)
        marked += 1
    upgraded = auto_upgrade_channels(session)
    session.commit()
    return {"channels_to_pool": moved, "end_customers_for_review": marked, "channels_upgraded": upgraded}


def review_end_churn(session, item: EndCustomer, user, confirm: bool, comment: str | None = None) -> None:
    """审核: Admin confirms (to the pool, counts as churn) or keeps the customer with its owner."""
    if "Admin" not in roles_of(user):
        raise Forbidden(_("Only an administrator can review end-customer churn."))
    if not item.churn_pending:
        raise BusinessError(_("“%(name)s” is not waiting for a churn review.", name=item.name), 409)
    item.churn_pending = False
    if confirm:
        item.churned = True
        _assign(session, item, None, user, "churn", comment, churn=True)
    else:
        item.assigned_at = utcnow()  # the window starts again
        record_event(session, item, "churn_kept", user, item.owner_id, item.owner_id, comment)


def referred_deal_count(session, channel: ChannelCustomer) -> int:
    """Deals of end customers this channel referred. Counted from orders once the sales module exists."""
    counter = current_app.extensions.get("crm_referred_deals")
    return int(counter(session, channel)) if counter else 0


def auto_upgrade_channels(session) -> int:
    from app.base_data.models import ChannelLevel

    threshold = int(setting("CRM_UPGRADE_DEALS"))
    levels = session.query(ChannelLevel).filter(ChannelLevel.enabled.is_(True)).order_by(ChannelLevel.name).all()
    order = [lv for lv in levels if len(lv.name) == 1]  # A (best) … E
    upgraded = 0
    for channel in session.query(ChannelCustomer).filter(ChannelCustomer.level_id.isnot(None)):
        if channel.level not in order or order.index(channel.level) == 0:
            continue
        deals = referred_deal_count(session, channel)
        steps = deals // threshold if threshold > 0 else 0
        target = order[max(0, len(order) - 1 - steps)] if steps else None
        if target is not None and order.index(target) < order.index(channel.level):
            old = channel.level.name
            channel.level = target
            record_event(
                session,
                channel,
                "upgrade",
                None,
                channel.owner_id,
                channel.owner_id,
                f"{old} → {target.name} ({deals})",
            )
            upgraded += 1
    return upgraded


# ------------------------------------------------------------------ follow-ups


def validate_followup(item: Followup) -> None:
    strip_text(item, "content", "next_plan")
    if (item.channel_customer is None) == (item.end_customer is None):
        raise BusinessError(_("A follow-up belongs to exactly one customer."), 400)
    ensure_visible(item.customer)
    if not item.content:
        raise BusinessError(_("Content is required."), 400)
    if item.followup_date is None:
        item.followup_date = local_today()
    if item.next_date is not None and item.next_date < item.followup_date:
        raise BusinessError(_("The next date cannot be before the follow-up date."), 400)
    customer = item.customer
    if customer.last_followup_at is None or customer.last_followup_at < item.followup_date:
        customer.last_followup_at = item.followup_date


def reminder_days(user) -> int:
    profile = next(iter(getattr(user, "profile_rows", []) or []), None)
    days = getattr(profile, "reminder_days", None) if profile is not None else None
    return int(days) if days is not None else int(setting("CRM_REMINDER_DAYS"))


FOLLOWUP_STATUS = {"open": _("In progress"), "done": _("Done")}


class FilterNotInPool(BaseFilter):
    name = ""

    def apply(self, query, value):
        return query.filter(self.model.in_pool.is_(False))


def followup_window(user, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or local_today()
    return today, today + dt.timedelta(days=reminder_days(user))


class FilterFollowupDue(BaseFilter):
    """Open follow-ups whose next date is within the current user's window or already past."""

    name = ""

    def apply(self, query, value):
        from app.core.scope import _user

        user = _user()
        today, until = followup_window(user) if user is not None else (local_today(), local_today())
        return query.filter(
            self.model.status == "open", self.model.next_date.isnot(None), self.model.next_date <= until
        )


def due_followups(session, user, today: dt.date | None = None) -> tuple[list[Followup], list[Followup]]:
    """(due within N days, overdue) for a user; managers' overdue list covers everyone."""
    today, until = followup_window(user, today)
    base = session.query(Followup).filter(Followup.status == "open", Followup.next_date.isnot(None))
    mine = base.filter(Followup.owner_id == user.id)
    due = mine.filter(Followup.next_date >= today, Followup.next_date <= until).order_by(Followup.next_date).all()
    overdue_q = base if is_manager(user) else mine
    overdue = overdue_q.filter(Followup.next_date < today).order_by(Followup.next_date).all()
    return due, overdue


# ------------------------------------------------------------------ contacts and addresses


def validate_contact(item: Contact) -> None:
    strip_text(item, "name", "mobile", "phone", "email")
    if not item.name:
        raise BusinessError(_("Contact name is required."), 400)
    if (item.channel_customer is None) == (item.end_customer is None):
        raise BusinessError(_("A contact belongs to exactly one customer."), 400)
    customer = item.channel_customer or item.end_customer
    ensure_visible(customer)
    item.owner_id = customer.owner_id
    item.owner = customer.owner


def validate_address(item: DeliveryAddress) -> None:
    strip_text(item, "receiver", "address", "phone")
    if item.end_customer is None or not item.receiver or not item.address:
        raise BusinessError(_("End customer, receiver and address are required."), 400)
    ensure_visible(item.end_customer)
    item.owner_id = item.end_customer.owner_id
    item.owner = item.end_customer.owner


def salesperson_choices(session) -> list[tuple[int, str]]:
    from flask_appbuilder.security.sqla.models import Role, User

    users = (
        session.query(User)
        .join(User.roles)
        .filter(Role.name == "Salesperson", User.active.is_(True))
        .order_by(User.username)
        .all()
    )
    return [(u.id, f"{u.get_full_name()} ({u.username})") for u in users]


# ------------------------------------------------------------------ import (the foundation's mechanism)


def customer_import_spec(kind: str, pool: bool) -> excel.ImportSpec:
    from app.base_data import models as bm
    from app.base_data.services import _lookup_by_name

    def region(text):
        return (
            db.session.query(bm.Region).filter(bm.Region.name == text.strip()).order_by(bm.Region.level.desc()).first()
        )

    fields = [
        excel.Field("name", _("Customer Name"), required=True, max_length=128, english="Customer Name"),
        excel.Field(
            "region",
            _("Region"),
            english="Region",
            lookup=region,
            lookup_error=_("No such region."),
            help=_("City or province name, e.g. 广州市"),
        ),
        excel.Field("phone", _("Phone"), max_length=32, english="Phone"),
        excel.Field("address", _("Address"), max_length=255, english="Address"),
        excel.Field("credit_limit", _("Credit Limit"), excel.MONEY, english="Credit Limit"),
        excel.Field(
            "source",
            _("Customer Source"),
            english="Customer Source",
            lookup=_lookup_by_name(bm.CustomerSource),
            lookup_error=_("No such customer source."),
        ),
        excel.Field(
            "nature",
            _("Customer Nature"),
            english="Customer Nature",
            lookup=_lookup_by_name(bm.CustomerNature),
            lookup_error=_("No such customer nature."),
        ),
        excel.Field("note", _("Note"), english="Note", max_length=2000),
    ]
    if kind == CHANNEL:
        fields[2:2] = [
            excel.Field(
                "channel_type",
                _("Channel Type"),
                english="Channel Type",
                lookup=_lookup_by_name(bm.ChannelType),
                lookup_error=_("No such channel type."),
            ),
            excel.Field(
                "level",
                _("Channel Level"),
                english="Channel Level",
                lookup=_lookup_by_name(bm.ChannelLevel),
                lookup_error=_("No such channel level."),
            ),
        ]
    else:
        fields[2:2] = [
            excel.Field(
                "customer_type",
                _("Customer Type"),
                english="Customer Type",
                lookup=_lookup_by_name(bm.CustomerType),
                lookup_error=_("No such customer type."),
            ),
            excel.Field("stars", _("Star Rating"), excel.INT, english="Star Rating", help=_("1–5")),
        ]
    model = model_for(kind)
    known: dict = {}
    assigned_at, owner_id = utcnow(), current_user_id()

    def prepare(rows):
        known.update(existing_customers(model, (r.get("name") for r in rows)))

    def create(values):
        # a table row, not an ORM object: the import writes up to hundreds of thousands of them at once
        region = values.pop("region", None)
        values["region_id"] = region.id if region is not None else None
        values["owner_id"] = None if pool else owner_id
        values["in_pool"] = pool
        if not pool:
            values["assigned_at"] = assigned_at
        return check_customer(values, model, known)

    return excel.ImportSpec(
        name=model.__tablename__,
        title=_("Public Customer Pool")
        if pool
        else (_("Channel Customer Info") if kind == CHANNEL else _("End Customer Info")),
        fields=fields,
        create=create,
        prepare=prepare,
        prepare_keys=("name",),
        bulk_model=model,
    )


# ------------------------------------------------------------------ opportunities

OPPORTUNITY_STAGES = {
    "lead": _("Lead"),
    "contact": _("Initial contact"),
    "needs": _("Needs confirmed"),
    "quote": _("Quotation"),
    "negotiation": _("Negotiation"),
    "won": _("Won"),
    "lost": _("Lost"),
}


def validate_opportunity(item) -> None:
    strip_text(item, "name", "note")
    if not item.name:
        raise BusinessError(_("Opportunity name is required."), 400)
    if item.end_customer is None and item.channel_customer is None:
        raise BusinessError(_("Choose the customer of the opportunity."), 400)
    ensure_visible(item.end_customer)
    ensure_visible(item.channel_customer)
    if item.stage not in OPPORTUNITY_STAGES:
        raise BusinessError(_("Unknown stage."), 400)
    ensure_non_negative(item.expected_amount, _("Expected Amount"))
    if item.expected_amount is None:
        item.expected_amount = 0


def funnel(session) -> list[dict]:
    """Count and expected amount per stage, within the current user's scope."""
    from app.core.scope import scope_query
    from app.crm.models import Opportunity

    query = scope_query(
        session.query(
            Opportunity.stage, func.count(Opportunity.id), func.coalesce(func.sum(Opportunity.expected_amount), 0)
        ),
        Opportunity,
    )
    rows = {stage: (count, amount) for stage, count, amount in query.group_by(Opportunity.stage)}
    return [
        {"stage": key, "label": label, "count": rows.get(key, (0, 0))[0], "amount": rows.get(key, (0, 0))[1]}
        for key, label in OPPORTUNITY_STAGES.items()
    ]


# ------------------------------------------------------------------ work plans

PLAN_STATUS = {"todo": _("Not done"), "done": _("Done")}


def validate_plan(item) -> None:
    strip_text(item, "title", "content")
    if not item.title:
        raise BusinessError(_("Title is required."), 400)
    if item.plan_date is None:
        raise BusinessError(_("Plan date is required."), 400)
    if item.status not in PLAN_STATUS:
        item.status = "todo"
    item.done_at = (
        utcnow()
        if item.status == "done" and item.done_at is None
        else (None if item.status == "todo" else item.done_at)
    )


def mark_done(item) -> None:
    item.status = "done"
    item.done_at = utcnow()


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_plans(session, monday: dt.date) -> dict[dt.date, list]:
    from app.core.scope import scope_query
    from app.crm.models import WorkPlan

    days = [monday + dt.timedelta(days=i) for i in range(7)]
    plans = (
        scope_query(session.query(WorkPlan), WorkPlan)
        .filter(WorkPlan.plan_date >= days[0], WorkPlan.plan_date <= days[-1])
        .order_by(WorkPlan.plan_date, WorkPlan.id)
        .all()
    )
    out = {d: [] for d in days}
    for plan in plans:
        out[plan.plan_date].append(plan)
    return out


class FilterPlansThisWeek(BaseFilter):
    """计划提醒: open plans from today to the end of this week (and any overdue open ones)."""

    name = ""

    def apply(self, query, value):
        today = local_today()
        end = week_start(today) + dt.timedelta(days=6)
        return query.filter(self.model.status == "todo", self.model.plan_date <= end)


# ------------------------------------------------------------------ targets


def validate_target(item) -> None:
    if item.owner is None and item.owner_id is None:
        raise BusinessError(_("Choose the salesperson of the target."), 400)
    owner = item.owner or db.session.get(type(item).owner.property.mapper.class_, item.owner_id)
    if "Salesperson" not in roles_of(owner):
        raise BusinessError(_("Targets are set for salespeople."), 400)
    if item.year is None or not 2000 <= int(item.year) <= 2100:
        raise BusinessError(_("Year must be between 2000 and 2100."), 400)
    if item.month is None or not 1 <= int(item.month) <= 12:
        raise BusinessError(_("Month must be between 1 and 12."), 400)
    ensure_non_negative(item.amount, _("Target Amount"))
    from app.crm.models import SalesTarget

    query = db.session.query(SalesTarget.id).filter(
        SalesTarget.owner_id == owner.id, SalesTarget.year == item.year, SalesTarget.month == item.month
    )
    if item.id is not None:
        query = query.filter(SalesTarget.id != item.id)
    with db.session.no_autoflush:
        if query.first():
            raise BusinessError(
                _(
                    "%(name)s already has a target for %(year)s-%(month)02d.",
                    name=owner.get_full_name(),
                    year=item.year,
                    month=int(item.month),
                ),
                409,
            )


def achieved_amount(session, owner_id: int, start: dt.date, end: dt.date):
    """Approved sales order amount of a salesperson in [start, end]; the sales module registers the query."""
    from decimal import Decimal

    query = current_app.extensions.get("sales_achievement")
    return Decimal(query(session, owner_id, start, end)) if query else Decimal("0")


def target_progress(session, year: int) -> list[dict]:
    """Per salesperson in scope: monthly target and achievement, with quarter and year sums."""
    from decimal import Decimal

    from app.core.scope import scope_query
    from app.crm.models import SalesTarget

    targets = scope_query(session.query(SalesTarget), SalesTarget).filter(SalesTarget.year == year).all()
    people: dict[int, dict] = {}
    for t in targets:
        row = people.setdefault(t.owner_id, {"owner": t.owner, "months": {m: Decimal("0") for m in range(1, 13)}})
        row["months"][t.month] = Decimal(t.amount)
    out = []
    for owner_id, row in people.items():
        months = []
        for month in range(1, 13):
            start = dt.date(year, month, 1)
            end = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
            achieved = achieved_amount(session, owner_id, start, end)
            months.append(
                {
                    "month": month,
                    "target": row["months"][month],
                    "achieved": achieved,
                    "rate": _rate(achieved, row["months"][month]),
                }
            )
        quarters = []
        for q in range(4):
            target = sum((m["target"] for m in months[q * 3 : q * 3 + 3]), Decimal("0"))
            achieved = sum((m["achieved"] for m in months[q * 3 : q * 3 + 3]), Decimal("0"))
            quarters.append({"quarter": q + 1, "target": target, "achieved": achieved, "rate": _rate(achieved, target)})
        year_target = sum((m["target"] for m in months), Decimal("0"))
        year_achieved = sum((m["achieved"] for m in months), Decimal("0"))
        out.append(
            {
                "owner": row["owner"],
                "months": months,
                "quarters": quarters,
                "target": year_target,
                "achieved": year_achieved,
                "rate": _rate(year_achieved, year_target),
            }
        )
    out.sort(key=lambda r: r["owner"].username if r["owner"] else "")
    return out


def _rate(achieved, target):
    """Achievement in percent, or None where there is no target (shown as —)."""
    from decimal import ROUND_HALF_UP, Decimal

    if not target:
        return None
    return (Decimal(achieved) * 100 / Decimal(target)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
