"""The one exception type business rules raise; views flash it, the API answers 4xx with it."""


class BusinessError(Exception):
    """A rule refused the action. The message is user-facing (lazy_gettext, Chinese by default)."""

    status_code = 422

    def __init__(self, message, status_code: int | None = None, field=None):
        super().__init__(message)
        self.message = message
        self.field = field  # the column/field label it is about, when there is one (import error reports)
        if status_code is not None:
            self.status_code = status_code

    def __str__(self) -> str:
        return str(self.message)


class NotFound(BusinessError):
    status_code = 404


class Forbidden(BusinessError):
    status_code = 403


def refused_by_database(exc: Exception) -> BusinessError:
    """What the user is told when the database refuses a write: the pages (flashed) and the API (4xx) say the same,
    never the driver's text with its SQL."""
    from flask_babel import lazy_gettext as _
    from sqlalchemy.exc import DataError, IntegrityError, OperationalError

    if isinstance(exc, IntegrityError):
        return BusinessError(_("This conflicts with an existing record (a duplicate or an entry in use)."), 422)
    if isinstance(exc, OperationalError):  # a deadlock or lock timeout: the other change won, this one changed nothing
        return BusinessError(_("Someone else was changing the same data; try again."), 409)
    if isinstance(exc, DataError | OverflowError):  # OverflowError: an integer past 64 bits reached SQLite
        return BusinessError(_("A value does not fit its field (a number too large or a text too long)."), 422)
    return BusinessError(_("The data could not be processed."), 422)
