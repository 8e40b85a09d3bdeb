from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_delete, post_migrate


class CoreConfig(AppConfig):
    name = "leadbaton.core"
    label = "core"

    def ready(self) -> None:
        from leadbaton.core import checks  # noqa: F401  (registers the deploy checks)
        from leadbaton.core.models import ConfigModel

        # Deletes start a new configuration generation, cascades included (they bypass delete()).
        for model in apps.get_models():
            if issubclass(model, ConfigModel):
                post_delete.connect(_configuration_deleted, sender=model, dispatch_uid=f"config-deleted-{model._meta.label}")
        # Migrations and loaddata write past the models' methods: every migrate starts a new generation.
        post_migrate.connect(_migrated, sender=self, dispatch_uid="config-migrated")


def _configuration_deleted(sender: Any, **kwargs: Any) -> None:
    from leadbaton.core.models import config_changed

    config_changed()


def _migrated(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from leadbaton.core.models import Generation, config_changed

    if Generation._meta.db_table in connections[using].introspection.table_names():
        config_changed()
