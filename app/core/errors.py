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
