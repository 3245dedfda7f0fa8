from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.core import checks

        from accounts import personal_data
        from accounts.actions import export_account

        # Her account comes first in the export. Its erasure is not a handler: do_erase_account
        # erases the account row itself, after every app's handler has run.
        personal_data.register(
            "accounts", models=["accounts.User", "admin.LogEntry"], export=export_account, order=0
        )
        from accounts.actions import erase_recovery_codes, export_recovery_codes

        personal_data.register(
            "accounts.recovery_codes",
            models=["accounts.RecoveryCode"],
            export=export_recovery_codes,
            erase=erase_recovery_codes,
            order=1,
        )
        checks.register(personal_data.check_personal_data_registered, checks.Tags.models)
