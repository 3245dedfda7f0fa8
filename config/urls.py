from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("chat.urls")),
    path("", include("chat.notifications.urls")),  # Web Push (issue 21)
    path("", include("moderation.urls")),
    path("", include("moderation.checkins.urls")),  # private check-ins
    path("", include("moderation.supervision.urls")),
    path("", include("moderation.practice.urls")),  # moderator training (issue 19)
    path("", include("frontend.urls")),
]
