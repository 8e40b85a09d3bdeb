from django.apps import AppConfig


class CoachingConfig(AppConfig):
    name = "leadbaton.coaching"
    label = "coaching"
