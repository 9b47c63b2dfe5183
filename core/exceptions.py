"""Exceptions every domain shares."""

from django.utils.translation import gettext_lazy as _


class NotFound(Exception):
    """What was asked for by id does not exist.

    Services raise a subclass named for the thing (``members.services.MemberNotFound``);
    ``core.web.middleware.NotFoundMiddleware`` answers it with a 404 (JSON under
    /api/), so no view maps it itself.
    """

    message = _("Not found.")

    def __init__(self, ident: object = None):
        super().__init__(ident)
        self.ident = ident

    def __str__(self) -> str:
        return str(self.message)
