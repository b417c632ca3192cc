from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The schema extension is registered when a schema is generated (accounts.schema says why).
        from . import signals  # noqa: F401  (connects the receivers)
