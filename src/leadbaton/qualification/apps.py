from django.apps import AppConfig


class QualificationConfig(AppConfig):
    name = "leadbaton.qualification"
    label = "qualification"
