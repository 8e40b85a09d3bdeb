from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "leadbaton.cli"
    label = "cli"
