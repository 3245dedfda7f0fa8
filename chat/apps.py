from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        from accounts import personal_data
        from chat import (
            checks,  # noqa: F401 - registers chat's system checks
            receivers,
        )
        from chat import personal_data as chat_data

        receivers.connect()
        personal_data.register(
            "chat",
            models=chat_data.MODELS,
            export=chat_data.export_member_data,
            erase=chat_data.erase_member_data,
            order=10,
        )
