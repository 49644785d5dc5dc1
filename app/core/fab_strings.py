"""Strings shown by Flask-AppBuilder that its own zh catalog leaves untranslated; listed so pybabel extracts them
into our catalog (FAB_NOTES.md: our catalog is merged over FAB's)."""

from flask_babel import lazy_gettext as _

FAB_STRINGS = [
    _("Add"),
    _("Edit"),
    _("Delete"),
    _("Show"),
    _("Search"),
    _("Security"),
    _("Groups"),
    _("List Groups"),
    _("Add Group"),
    _("Edit Group"),
    _("Show Group"),
    _("Database Error"),
    _("Contains (insensitive)"),
    _("Are you sure you want to delete this item?"),
    _("Edit User Information"),
    _("In"),
    _("Not In"),
    _("Start with"),
    _("The user's password for authentication"),
    _("User information changed"),
    _("User(s) exists in the group, cannot delete"),
    _("User(s) exists in the role, cannot delete"),
    _("Either select a role or a group"),
    _("Page not found"),
    _("Yes"),
    _("No"),
    _("Login"),
]
