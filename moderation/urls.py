from django.urls import path

from moderation import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
