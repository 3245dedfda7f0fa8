from django.urls import path

from accounts import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("stage/", views.change_stage, name="change_stage"),
    path("my-data/", views.my_data, name="my_data"),
    path("my-data/download/", views.download_my_data, name="download_my_data"),
    path("my-data/erase/", views.erase_my_account, name="erase_my_account"),
]
