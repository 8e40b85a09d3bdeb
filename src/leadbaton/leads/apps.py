from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leadbaton.leads"
    label = "leads"
