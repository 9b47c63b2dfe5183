from django.urls import path

from likes import views

urlpatterns = [
    path("posts/<int:post_id>/like/", views.like, name="like"),
    path("posts/<int:post_id>/unlike/", views.unlike, name="unlike"),
]
