from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "leadbaton.intake"
    label = "intake"
