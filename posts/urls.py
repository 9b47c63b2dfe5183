from django.urls import path

from posts import views

urlpatterns = [
    path("me/calendar/", views.my_calendar, name="my_calendar"),
]
