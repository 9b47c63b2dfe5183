from django.urls import path

from posts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("posts/", views.timeline, name="timeline"),
    path("posts/new/", views.new_post, name="new_post"),
    path("members/<int:member_id>/posts/", views.timeline, name="member_timeline"),
    path("me/calendar/", views.my_calendar, name="my_calendar"),
    path("api/posts", views.api_timeline, name="api_timeline"),
    path("api/members/<int:member_id>/posts", views.api_timeline, name="api_member_timeline"),
    path("api/me/calendar", views.api_my_calendar, name="api_my_calendar"),
]
