"""The configuration generation: one row whose token changes whenever configuration that processes keep in memory changes.

Sources and their keys, teams, time off, routing rules, the lead definition,
webhook subscriptions and chat targets change seldom but are read by every
lead. Their models derive from ConfigModel: every save, delete and bulk write
through the ORM gives the generation a new token, in the same transaction, so
every process sees the change together with the new token (see core.cache).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models

GENERATION_ID = 1


class Generation(models.Model):
    """The single row (id 1) whose token says which configuration is current."""

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token


def config_changed() -> None:
    """Start a new configuration generation. Call in the transaction that changes the configuration."""
    token = uuid.uuid4().hex
    if not Generation.objects.filter(pk=GENERATION_ID).update(token=token):
        Generation.objects.create(pk=GENERATION_ID, token=token)


class ConfigQuerySet(models.QuerySet[Any]):
    """Bulk writes of configuration start a new generation too, when they write a row."""

    def update(self, **kwargs: Any) -> int:
        changed = super().update(**kwargs)
        if changed:
            config_changed()
        return changed

    def delete(self) -> tuple[int, dict[str, int]]:
        deleted = super().delete()
        if deleted[0]:
            config_changed()
        return deleted

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            config_changed()
        return created

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        changed = super().bulk_update(objs, fields, batch_size=batch_size)
        if changed:
            config_changed()
        return changed


class ConfigModel(models.Model):
    """A model that processes cache: saving or deleting a row starts a new configuration generation."""

    objects = ConfigQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        config_changed()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        deleted = super().delete(*args, **kwargs)
        config_changed()
        return deleted
