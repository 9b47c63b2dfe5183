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
]
