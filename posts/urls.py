from django.urls import path

from posts import views

urlpatterns = [
    path("me/calendar/", views.my_calendar, name="my_calendar"),
    # Any one path segment, so that a malformed day is a 400 that says why, not a 404.
    path("me/calendar/<str:day>/", views.my_calendar_day, name="my_calendar_day"),
]
