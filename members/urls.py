from django.contrib.auth import views as auth_views
from django.urls import path

from members import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.me, name="me"),
    path("me/nickname/", views.change_nickname, name="change_nickname"),
]
