from django.urls import path
from django.views.generic import TemplateView

urlpatterns = [
    path("guidelines/", TemplateView.as_view(template_name="frontend/guidelines.html"), name="guidelines"),
]
