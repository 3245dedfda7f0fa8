from django.urls import path

from moderation.checkins import views

urlpatterns = [
    path("checkins/<int:checkin_id>/", views.conversation_page, name="checkin"),
    path("moderation/checkins/", views.checkin_list, name="checkins_list"),
    path("moderation/members/<int:member_id>/", views.member_profile, name="checkins_member"),
    path(
        "moderation/members/<int:member_id>/checkin",
        views.open_from_profile,
        name="checkins_open_from_profile",
    ),
    path("api/moderation/checkins", views.open_api, name="checkins_open_api"),
]
