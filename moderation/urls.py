from django.urls import path

from moderation import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("api/moderation/queue", views.queue_api, name="moderation_queue_api"),
    path("moderation/", views.queue_page, name="moderation_queue"),
]
