from django.urls import path

from social import views

urlpatterns = [
    path("", views.root, name="root"),
    path("home/", views.home, name="home"),
    path("posts/", views.timeline, name="timeline"),
    path("posts/new/", views.new_post, name="new_post"),
    path("posts/<int:post_id>/delete/", views.delete_post, name="delete_post"),
    path("members/<int:member_id>/posts/", views.timeline, name="member_timeline"),
    path("members/<int:member_id>/follow/", views.follow, name="follow"),
    path("members/<int:member_id>/unfollow/", views.unfollow, name="unfollow"),
    path(
        "members/<int:member_id>/followers/",
        views.follow_list,
        {"followers": True},
        name="followers",
    ),
    path(
        "members/<int:member_id>/following/",
        views.follow_list,
        {"followers": False},
        name="following",
    ),
]
