from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Web Push notifications with her consent (issue 21): replies to her, private check-ins,
    session starts. Discreet by design: a notification never carries message text."""

    name = "chat.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from accounts import personal_data
        from chat.notifications import actions, receivers

        personal_data.register(
            "notifications",
            models=["notifications.PushSubscription"],
            export=actions.export_member_data,
            erase=actions.erase_member_data,
            order=40,
        )
        user_logged_out.connect(
            receivers.remove_this_devices_subscriptions, dispatch_uid="notifications.logout"
        )
