from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "moderation.practice"
    label = "practice"
    verbose_name = "Moderator training"

    def ready(self) -> None:
        from moderation.practice import personal_data

        personal_data.register()
