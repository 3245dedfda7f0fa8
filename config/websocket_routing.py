from django.urls import path

from chat.routing import websocket_urlpatterns as chat_patterns
from moderation.checkins.routing import websocket_urlpatterns as checkin_patterns
from moderation.consumers import ModerationConsumer

websocket_urlpatterns = [
    *chat_patterns,
    *checkin_patterns,
    path("ws/moderation/", ModerationConsumer.as_asgi()),
]
