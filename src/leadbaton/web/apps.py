from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "leadbaton.web"
    label = "web"
