from django.urls import path

from moderation.facilitation import views

urlpatterns = [
    path("supervisor/sessions/", views.session_list, name="facilitation_sessions"),
    path("supervisor/sessions/new/", views.session_create, name="facilitation_session_new"),
    path(
        "supervisor/sessions/<int:session_id>/edit/",
        views.session_edit,
        name="facilitation_session_edit",
    ),
    path(
        "supervisor/sessions/<int:session_id>/cancel/",
        views.session_cancel,
        name="facilitation_session_cancel",
    ),
    path("supervisor/prompts/", views.prompt_list, name="facilitation_prompts"),
    path("supervisor/prompts/new/", views.prompt_edit, name="facilitation_prompt_new"),
    path(
        "supervisor/prompts/<int:template_id>/", views.prompt_edit, name="facilitation_prompt_edit"
    ),
    path("api/facilitation/sessions", views.sessions_api, name="facilitation_sessions_api"),
    path("api/facilitation/prompts", views.prompts_api, name="facilitation_prompts_api"),
    path(
        "api/facilitation/prompts/<int:prompt_id>/send",
        views.prompt_send,
        name="facilitation_prompt_send",
    ),
    path(
        "api/facilitation/prompts/<int:prompt_id>/dismiss",
        views.prompt_dismiss,
        name="facilitation_prompt_dismiss",
    ),
]
