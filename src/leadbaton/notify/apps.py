from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "leadbaton.notify"
    label = "notify"
