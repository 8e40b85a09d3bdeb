"""Writing only what changed, so that applying the same configuration twice writes nothing."""

from __future__ import annotations

from typing import Any

from django.db import models


def fields_update(row: models.Model, values: dict[str, Any]) -> list[str]:
    """Set the fields whose value differs and save just those; return their names (empty: nothing written).

    Foreign keys are given by attname (`team_id`) so comparing them needs no query.
    """
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.save(update_fields=changed)
    return changed
