from django.urls import path

from moderation.supervision import views

urlpatterns = [
    path("supervisor/", views.home, name="supervisor_home"),
    path("supervisor/analytics/", views.analytics_page, name="supervisor_analytics"),
    path("supervisor/audit/", views.audit_log, name="supervisor_audit"),
    path("supervisor/audit/export.<slug:fmt>", views.audit_export, name="supervisor_audit_export"),
    path("supervisor/messages/", views.message_logs, name="supervisor_messages"),
    path(
        "supervisor/messages/export.<slug:fmt>",
        views.message_export,
        name="supervisor_messages_export",
    ),
    path("supervisor/messages/<int:message_id>/", views.message_detail, name="supervisor_message"),
    path("supervisor/reviews/", views.reviews, name="supervisor_reviews"),
    path("supervisor/reviews/<int:flag_id>/", views.review_flag, name="supervisor_review_flag"),
    path("supervisor/rooms/", views.room_list, name="supervisor_rooms"),
    path("supervisor/rooms/new/", views.room_edit, name="supervisor_room_new"),
    path("supervisor/rooms/<int:room_id>/", views.room_edit, name="supervisor_room"),
    path(
        "supervisor/rooms/<int:room_id>/thresholds/",
        views.room_thresholds,
        name="supervisor_room_thresholds",
    ),
    path("supervisor/helplines/", views.helpline_list, name="supervisor_helplines"),
    path("supervisor/helplines/new/", views.helpline_edit, name="supervisor_helpline_new"),
    path(
        "supervisor/helplines/<int:helpline_id>/", views.helpline_edit, name="supervisor_helpline"
    ),
    path(
        "supervisor/helplines/<int:helpline_id>/verified/",
        views.helpline_verified,
        name="supervisor_helpline_verified",
    ),
    path("supervisor/safety-model/", views.safety_model, name="supervisor_safety_model"),
    path("supervisor/people/", views.people, name="supervisor_people"),
    path("supervisor/people/<int:user_id>/role/", views.person_role, name="supervisor_person_role"),
    path(
        "supervisor/people/<int:user_id>/erase/", views.person_erase, name="supervisor_person_erase"
    ),
]
