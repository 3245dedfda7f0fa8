from django.urls import path
from django.views.generic import TemplateView

from frontend import views

urlpatterns = [
    path(
        "guidelines/",
        TemplateView.as_view(template_name="frontend/guidelines.html"),
        name="guidelines",
    ),
    path("help/", views.help_page, name="help"),
    path("privacy/", views.privacy_page, name="privacy"),
    path("resources/", views.resources_page, name="resources"),
    path("settings/", views.member_settings, name="member_settings"),
]
