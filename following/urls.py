"""/follow/…: the pages a sign-up's messages link to. The sign-up page
itself is /tags/<slugs>/follow/ (k2site.urls: "tags:follow"), beside the
page it follows, as its feed is."""

from django.urls import path

from . import views

app_name = "following"

urlpatterns = [
    path("sent/", views.sent, name="sent"),
    path("confirm/<str:token>/<str:frequency>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
