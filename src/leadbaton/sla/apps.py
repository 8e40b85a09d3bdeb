from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "leadbaton.sla"
    label = "sla"
