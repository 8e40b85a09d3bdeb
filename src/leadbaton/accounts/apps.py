from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leadbaton.accounts"
    label = "accounts"
