from django.urls import path

from moderation.checkins.consumers import CheckInConsumer

websocket_urlpatterns = [
    path("ws/checkins/<int:checkin_id>/", CheckInConsumer.as_asgi()),
]
