from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        from moderation import (
            chat_hooks,
            personal_data,
            signals,  # noqa: F401 - connects the cache invalidation
        )

        chat_hooks.connect()
        personal_data.register()
        try:
            # Facilitation may not be installed in every build.
            from moderation.facilitation import personal_data as facilitation_data
        except ImportError:
            return
        facilitation_data.register()
