from django.urls import include, path

from moderation import api, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("api/resources", views.resources_api, name="resources_api"),
    path("moderation/", views.queue_page, name="moderation_queue"),
    path("api/moderation/queue", views.queue_api, name="moderation_queue_api"),
    path("api/moderation/flags/<int:flag_id>", api.flag_detail, name="moderation_flag"),
    path(
        "api/moderation/flags/<int:flag_id>/<slug:action>",
        api.flag_action,
        name="moderation_flag_action",
    ),
    path(
        "api/moderation/messages/<int:message_id>/restore",
        api.restore_message,
        name="moderation_restore",
    ),
    path("api/moderation/mutes/<int:mute_id>/unmute", api.unmute, name="moderation_unmute"),
    path(
        "api/moderation/members/<int:member_id>/<slug:action>",
        api.member_action,
        name="moderation_member",
    ),
    path("api/moderation/duty", api.duty, name="moderation_duty"),
    path("", include("moderation.facilitation.urls")),  # facilitated sessions and prompts
]
