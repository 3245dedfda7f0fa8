from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("chat.urls")),
    path("", include("moderation.urls")),
    path("", include("moderation.supervision.urls")),
    path("", include("frontend.urls")),
]
