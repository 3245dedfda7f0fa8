from django.urls import path

from moderation.practice import api, views

urlpatterns = [
    path("practice/", views.console, name="practice_console"),
    path("practice/record/", views.my_record, name="practice_my_record"),
    path("api/practice/queue", api.queue, name="practice_queue_api"),
    path("api/practice/items/<int:attempt_id>", api.item_detail, name="practice_item"),
    path(
        "api/practice/items/<int:attempt_id>/<slug:action>",
        api.item_action,
        name="practice_item_action",
    ),
    # Supervisors (under /supervisor/, so the role matrix in tests/reliability covers them).
    path("supervisor/training/", views.training, name="practice_training"),
    path("supervisor/training/people/<int:user_id>/", views.person, name="practice_person"),
    path(
        "supervisor/training/people/<int:user_id>/sign-off/",
        views.sign_off,
        name="practice_sign_off",
    ),
    path(
        "supervisor/training/people/<int:user_id>/refresher/",
        views.refresher,
        name="practice_refresher",
    ),
    path("supervisor/training/scenarios/", views.scenario_list, name="practice_scenarios"),
    path("supervisor/training/scenarios/new/", views.scenario_edit, name="practice_scenario_new"),
    path(
        "supervisor/training/scenarios/<int:scenario_id>/",
        views.scenario_edit,
        name="practice_scenario",
    ),
]
