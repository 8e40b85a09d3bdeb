from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadbaton.core"
    label = "core"
