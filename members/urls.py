from django.contrib.auth import views as auth_views
from django.urls import path

from members import views
from members.forms import LoginForm

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.me, name="me"),
    path("me/nickname/", views.change_nickname, name="change_nickname"),
    path("me/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("me/logout-everywhere/", views.log_out_everywhere, name="log_out_everywhere"),
    path("me/delete/", views.delete_account, name="delete_account"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]
