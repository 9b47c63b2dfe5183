"""The member domain: a member and the nicknames they have had.

State changes through behaviour methods (``change_nickname``), never by
assigning fields from outside; ``members.services`` wraps them in transactions
and is what the rest of the project calls.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Length, Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from core.outbox import Outbox
from core.text import LineField, normalize_text

NICKNAME_MAX_LENGTH = 10
# Django's own salt for the session hash (django.contrib.auth.base_user).
SESSION_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
EARLIEST_BIRTHDATE = date(1900, 1, 1)


def normalize_email(email: str) -> str:
    """Emails are compared and stored lower-case (and NFC): one address, one member."""
    return normalize_text(email).lower()


def normalize_nickname(nickname: str) -> str:
    return normalize_text(nickname)


def validate_not_in_future(value: date) -> None:
    if value > timezone.localdate():
        raise ValidationError(_("Birthdate cannot be in the future."), code="future")


def nickname_length_in_range() -> models.Q:
    """The database's own check of 1..10 characters (CHAR_LENGTH on MySQL)."""
    return models.Q(
        models.lookups.GreaterThanOrEqual(Length("nickname"), 1),
        models.lookups.LessThanOrEqual(Length("nickname"), NICKNAME_MAX_LENGTH),
    )


class ExactEmailField(models.EmailField):
    """An email column that compares exactly, on every database.

    MySQL/MariaDB compare with the column's collation, and the usual
    ``utf8mb4_unicode_ci`` ignores accents and case: ``alicé@`` would find
    ``alice@``, and the lower-case check would hold for ``BOB@``. A binary
    collation there; SQLite already compares exactly and knows no such name.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "mysql":
            params["collation"] = "utf8mb4_bin"
        return params


class MemberManager(BaseUserManager["Member"]):
    def get_by_natural_key(self, email: str) -> Member:
        # The login form gives the email as typed; stored emails are lower-case.
        return self.get(email=normalize_email(email))

    @transaction.atomic
    def create_member(
        self,
        *,
        email: str,
        nickname: str,
        birthdate: date,
        password: str | None,
        is_staff: bool = False,
        is_superuser: bool = False,
        joined_at: datetime | None = None,
    ) -> Member:
        """A member and the first row of its nickname history, checked, in one transaction.

        ``password=None`` gives an unusable password. Raises ``ValidationError`` (the
        email taken included, also when another sign-up takes it at the same moment).
        Nothing else happens: side effects (the welcome email) are the services'.
        """
        member = self.model(
            email=email,
            nickname=nickname,
            birthdate=birthdate,
            is_staff=is_staff,
            is_superuser=is_superuser,
            joined_at=joined_at or timezone.now(),
        )
        if password is None:
            member.set_unusable_password()
        else:
            member.set_password(password)
        member.full_clean()
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError:
            # Another sign-up took the email between our check and our insert.
            if self.filter(email=member.email).exists():
                raise ValidationError(
                    {"email": self.model._meta.get_field("email").error_messages["unique"]}
                ) from None
            raise
        history = member.first_nickname()
        history.full_clean()
        history.save()
        return member

    # Django's auth machinery (createsuperuser) calls these.
    def create_user(self, email: str, password: str | None = None, **fields) -> Member:
        return self.create_member(email=email, password=password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> Member:
        return self.create_member(
            email=email, password=password, is_staff=True, is_superuser=True, **fields
        )


class Member(AbstractBaseUser, PermissionsMixin):
    email = ExactEmailField(
        _("email"),
        max_length=254,
        error_messages={"unique": _("A member with this email already exists.")},
    )
    nickname = LineField(
        _("nickname"),
        max_length=NICKNAME_MAX_LENGTH,
        validators=[MinLengthValidator(1)],
        help_text=_("1 to 10 characters."),
    )
    birthdate = models.DateField(
        _("birthdate"),
        validators=[MinValueValidator(EARLIEST_BIRTHDATE), validate_not_in_future],
        help_text=_("YYYY-MM-DD, from 1900-01-01 to today."),
    )
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Whether the member can log into the admin site."),
    )

    # Part of every session's hash (get_session_auth_hash): one more ends all of them.
    session_generation = models.PositiveIntegerField(
        _("session generation"), default=0, db_default=0, editable=False
    )

    objects = MemberManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["nickname", "birthdate"]

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(fields=["email"], name="member_email_unique"),
            # With the unique constraint this makes email unique ignoring case,
            # also on SQLite where "=" is case-sensitive.
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")),
                name="member_email_lowercase",
                violation_error_message=_("The email must be stored lower-case."),
            ),
            models.CheckConstraint(
                condition=nickname_length_in_range(),
                name="member_nickname_length",
                violation_error_message=_("A nickname has 1 to 10 characters."),
            ),
            models.CheckConstraint(
                condition=models.Q(birthdate__gte=EARLIEST_BIRTHDATE),
                name="member_birthdate_from_1900",
                violation_error_message=_("The birthdate cannot be before 1900-01-01."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nickname} <{self.email}>"

    def clean_fields(self, exclude=None) -> None:
        # Normalise first so the field rules judge what will be stored.
        self.email = normalize_email(self.email)
        self.nickname = normalize_nickname(self.nickname)
        super().clean_fields(exclude)

    # --- sessions -------------------------------------------------------------------
    # Django keeps a hash of the password in each session and ends a session whose
    # hash no longer matches (a new password ends every session). The generation is
    # in the hash too, so "log out everywhere" ends them all without a new password.
    # Generation 0 gives Django's own hash: no session ended when this came in.

    def get_session_auth_hash(self) -> str:
        # A member read from the session cache (services.member_for_session) brings the
        # hash along and no password: computing it would read the password, a query
        # a request. Once the password is read or set, it is computed from that.
        kept = self.__dict__.get("_session_auth_hash")
        if kept is not None and "password" not in self.__dict__:
            return kept
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=secret)

    def _session_hash(self, *, secret: str | None) -> str:
        value = self.password
        if self.session_generation:
            value = f"{value}:{self.session_generation}"
        return salted_hmac(SESSION_HASH_SALT, value, secret=secret, algorithm="sha256").hexdigest()

    def end_sessions(self) -> None:
        """End every session of the member (the caller saves ``session_generation``)."""
        self.session_generation += 1

    def close(self) -> None:
        """No more logging in or sessions: the member is being deleted (the caller saves)."""
        self.is_active = False
        self.end_sessions()

    def first_nickname(self) -> NicknameHistory:
        """The history row that records the nickname a member signed up with."""
        return NicknameHistory(member=self, nickname=self.nickname, changed_at=self.joined_at)

    def change_nickname(self, nickname: str, *, at: datetime) -> NicknameHistory:
        """Take a new nickname; returns the history row the caller must save with it."""
        nickname = normalize_nickname(nickname)
        if nickname == self.nickname:
            raise ValidationError(
                {"nickname": _("That is already your nickname.")}, code="unchanged"
            )
        self.nickname = nickname
        return NicknameHistory(member=self, nickname=nickname, changed_at=at)


class NicknameHistory(models.Model):
    """One row per nickname a member has had. Rows copy the text and are never updated."""

    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="nickname_history",
        verbose_name=_("member"),
    )
    nickname = LineField(_("nickname"), max_length=NICKNAME_MAX_LENGTH)
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("nickname history")
        verbose_name_plural = _("nickname history")
        # Changes to one member serialise on its row lock, so ids follow time.
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=nickname_length_in_range(),
                name="nickname_history_nickname_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nickname} ({timezone.localtime(self.changed_at):%Y-%m-%d %H:%M})"


class OutboundMail(Outbox):
    """One email to a member (a welcome at sign-up, a password reset link): a row of the
    transactional outbox (``core.outbox``).

    Written in the transaction that asks for it and queued for
    ``members.tasks.send_mail`` (on the ``mail`` queue, at the provider's rate)
    after the commit; the sweep queues again what has been pending too long, so a
    process that dies after the commit or a broker that is down delays the mail but
    never loses it. ``done_at`` is set once the provider has accepted it (or refused
    it for good, ``failed_at``): a message delivered to the worker twice is sent once.
    The row holds no secret: a reset link's token is made when the mail is sent.
    """

    class Kind(models.TextChoices):
        WELCOME = "welcome", _("welcome")
        PASSWORD_RESET = "reset", _("password reset")

    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,  # a member deleted before the mail went needs none
        related_name="+",
        verbose_name=_("member"),
    )
    kind = models.CharField(
        _("kind"), max_length=8, choices=Kind.choices, default=Kind.WELCOME, db_default="welcome"
    )
    # Copied: the address the mail was asked for, whatever happens to the row later.
    to = models.EmailField(_("to"), max_length=254)
    language = models.CharField(_("language"), max_length=8, default="en")
    # Where the mail's link points: the site as the request that asked for it reached
    # it (scheme and host, checked against ALLOWED_HOSTS). Empty for a mail without one.
    site = models.CharField(_("site"), max_length=200, blank=True, default="", db_default="")
    # The provider refused the address for good (5xx): done, and never tried again.
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)

    task = "members.tasks.send_mail"
    # A backlog behind the rate limit (MAIL_PROVIDER_RATE) must not be queued
    # twice while it waits: copies are skipped, but they take the rate's slots.
    resend_after = timedelta(minutes=5)

    class Meta(Outbox.Meta):
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        constraints = [
            # A link needs somewhere to point.
            models.CheckConstraint(
                condition=~models.Q(kind="reset", site=""), name="outbound_mail_reset_has_site"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} email {self.pk} to {self.to}"


class MemberRemoval(Outbox):
    """A member's deletion: asked for on /me/delete/ or in the admin, done by the worker.

    Written with the member's closing (no login, no session from then on) and queued
    for ``social.tasks.remove_member``, which deletes the member with everything of
    theirs in bounded chunks and keeps every count they touched right
    (``social.usecases.member_remove``). Each chunk is a transaction of its own, so a
    worker that dies halfway leaves less to do, and the sweep sends the rest again.
    """

    # Not a foreign key: the member goes before the row is done.
    member_id = models.BigIntegerField(_("member"), db_index=True)

    task = "social.tasks.remove_member"
    # A big member takes minutes; a copy sent meanwhile would only wait on the locks.
    resend_after = timedelta(minutes=10)
    keep_done = timedelta(days=1)

    class Meta(Outbox.Meta):
        verbose_name = _("member removal")
        verbose_name_plural = _("member removals")

    def __str__(self) -> str:
        return f"removal of member {self.member_id}"
