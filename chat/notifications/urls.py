from django.urls import path

from chat.notifications import views

urlpatterns = [
    path("sw.js", views.service_worker, name="service_worker"),
    path("api/notifications/subscription", views.subscription_api, name="push_subscription_api"),
]
