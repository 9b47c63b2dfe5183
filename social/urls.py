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
    path("api/me/home", views.api_home, name="api_home"),
    path("api/posts", views.api_timeline, name="api_timeline"),
    path("api/posts/<int:post_id>", views.api_post, name="api_post"),
    path("api/members/<int:member_id>", views.api_member, name="api_member"),
    path("api/members/<int:member_id>/posts", views.api_timeline, name="api_member_timeline"),
    path(
        "api/members/<int:member_id>/followers",
        views.api_follow_list,
        {"followers": True},
        name="api_followers",
    ),
    path(
        "api/members/<int:member_id>/following",
        views.api_follow_list,
        {"followers": False},
        name="api_following",
    ),
]
