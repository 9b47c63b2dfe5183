"""Who is logged in, without a query a request.

Django's ModelBackend reads the member's row on every request of a session. This
one asks ``members.services.member_for_session``, which keeps a copy of the row
(without the password) in the shared cache for SESSION_CACHE_SECONDS at most and
drops it when the member changes.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from members import services


class MemberBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            member_id = int(user_id)
        except (TypeError, ValueError):
            return None
        member = services.member_for_session(member_id=member_id)
        return member if member is not None and self.user_can_authenticate(member) else None
