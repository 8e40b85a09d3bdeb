from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "leadbaton.routing"
    label = "routing"
