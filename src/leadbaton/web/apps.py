from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "leadbaton.web"
    label = "web"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from leadbaton.web.signin import failures_forget

        user_logged_in.connect(failures_forget, dispatch_uid="leadbaton.web.signin.failures_forget")
