from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "moderation.checkins"
    label = "checkins"
    verbose_name = "Private check-ins"

    def ready(self) -> None:
        from moderation.checkins import chat_hooks, personal_data

        chat_hooks.connect()
        personal_data.register()
