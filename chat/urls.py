from django.urls import path

from chat import views

urlpatterns = [
    path("", views.home, name="home"),
    path("rooms/", views.room_list, name="rooms"),
    path("rooms/<slug:slug>/", views.room_detail, name="room"),
    path("api/rooms/unread", views.unread_api, name="unread_api"),
    path("api/rooms/<slug:slug>/messages", views.history_api, name="history_api"),
]
