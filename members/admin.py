"""Admin for members, their nickname history, their email and their removals.

Members are created, renamed and deleted through ``members.services`` here too,
so the admin writes the same history rows as the pages do, and a member deleted
here leaves every count right, as one who deletes their own account does.
"""

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.admin import BoundedCountPaginator, OutboxStateFilter, ReadOnlyAdmin
from members import services
from members.forms import PasswordOnlySave
from members.models import Member, MemberRemoval, NicknameHistory, OutboundMail


class MemberCreationForm(AdminUserCreationForm):
    class Meta:
        model = Member
        fields = ("email", "nickname", "birthdate")


class MemberChangeForm(UserChangeForm):
    # Not the model field: the admin must not assign member.nickname itself;
    # a changed value is handed to the service (see MemberAdmin.save_model).
    nickname = Member._meta.get_field("nickname").formfield()

    class Meta:
        model = Member
        exclude = ("nickname",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("nickname", self.instance.nickname)


class MemberPasswordChangeForm(PasswordOnlySave, AdminPasswordChangeForm):
    pass


class NicknameHistoryInline(admin.TabularInline):
    model = NicknameHistory
    fields = ("nickname", "changed_at")
    readonly_fields = fields
    ordering = ("-id",)
    extra = 0

    class Media:
        # The tabular inline captions each row with the row's str(), which here only
        # repeats the nickname and time the row shows; the stylesheet hides it.
        css = {"all": ["css/admin.css"]}

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Member)
class MemberAdmin(UserAdmin):
    form = MemberChangeForm
    add_form = MemberCreationForm
    change_password_form = MemberPasswordChangeForm
    inlines = (NicknameHistoryInline,)
    list_display = ("id", "email", "nickname", "birthdate", "joined_at", "is_staff")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "nickname")
    ordering = ("-id",)
    readonly_fields = ("joined_at", "last_login")
    paginator = BoundedCountPaginator
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("nickname", "birthdate", "joined_at", "last_login")}),
        (_("Status"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (
            # Folded: the group and permission pickers are large and rarely needed,
            # and the nickname history (the inline below) should not sit under them.
            _("Permissions"),
            {"classes": ("collapse",), "fields": ("groups", "user_permissions")},
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "nickname",
                    "birthdate",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_inlines(self, request, obj):
        return self.inlines if obj else ()

    def get_exclude(self, request, obj=None):
        # On the change page "nickname" is MemberChangeForm's own field.
        return ("nickname",) if obj else ()

    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        password = data["password1"] if data["set_usable_password"] else None
        return services.member_register(
            email=data["email"],
            nickname=data["nickname"],
            birthdate=data["birthdate"],
            password=password,
        )

    def save_model(self, request, obj, form, change):
        if not change:
            return  # save_form already registered the member through the service
        # Save only the columns the form changed: saving the whole row would write
        # back a nickname that may have changed since the form was loaded.
        columns = {field.name for field in Member._meta.concrete_fields} - {"nickname"}
        changed = [name for name in form.changed_data if name in columns]
        if changed:
            obj.save(update_fields=changed)
        if "nickname" in form.changed_data:
            try:
                services.member_change_nickname(
                    member_id=obj.pk, nickname=form.cleaned_data["nickname"]
                )
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)

    def save_related(self, request, form, formsets, change):
        if change:  # the add form has no many-to-many fields to save
            super().save_related(request, form, formsets, change)

    # --- deleting: the removal a member asks for on /me/delete/ ------------------------

    def get_deleted_objects(self, objs, request):
        """What the confirmation page lists: a summary, not every row.

        Django would collect each row that refers to the member, to list it and to ask
        for delete permission on it (follows, likes, counters): seconds for a member
        with many followers, and a refusal. The removal is the service's, which keeps
        the counts right; this page reads nothing but the members themselves.
        """
        members = list(objs)
        summary = [
            _("their posts, with the posts' likes and their place in every home feed"),
            _("their likes, their follows both ways and their home feed"),
            _("their nickname history and their pending emails"),
        ]
        return [*map(str, members), summary], {_("members"): len(members)}, set(), []

    def delete_model(self, request, obj: Member) -> None:
        services.member_delete_request(member_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        for member_id in queryset.values_list("pk", flat=True):
            services.member_delete_request(member_id=member_id)

    def response_delete(self, request, obj_display, obj_id):
        if IS_POPUP_VAR in request.POST:
            return super().response_delete(request, obj_display, obj_id)
        self.message_user(
            request,
            _("%(member)s is closed; the worker is deleting the member and everything of theirs.")
            % {"member": obj_display},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:members_member_changelist"))


@admin.register(NicknameHistory)
class NicknameHistoryAdmin(ReadOnlyAdmin):
    list_display = ("id", "member_email", "nickname", "changed_at")
    list_select_related = ("member",)
    search_fields = ("member__email",)
    search_help_text = _("Search by the member's email.")
    ordering = ("-id",)

    @admin.display(description=_("member email"), ordering="member__email")
    def member_email(self, obj: NicknameHistory) -> str:
        return obj.member.email


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "to",
        "language",
        "created_at",
        "queued_at",
        "done_at",
        "failed_at",
    )
    list_filter = (OutboxStateFilter, "kind", ("failed_at", admin.EmptyFieldListFilter))
    search_fields = ("=to",)
    search_help_text = _("Search by the exact address.")
    ordering = ("-id",)


@admin.register(MemberRemoval)
class MemberRemovalAdmin(ReadOnlyAdmin):
    list_display = ("id", "member_id", "created_at", "queued_at", "done_at")
    list_filter = (OutboxStateFilter,)
    search_fields = ("=member_id",)
    search_help_text = _("Search by member id.")
    ordering = ("-id",)
