from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from leadbaton.core.conditions import LEAD_FIELDS, ConditionError, condition_parse
from leadbaton.routing.models import RoutingRule


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = "__all__"

    def clean_conditions(self) -> Any:
        """The same checks as the organisation file and the API: a rule that cannot be read is never stored."""
        conditions = self.cleaned_data["conditions"]
        if not isinstance(conditions, list):
            raise forms.ValidationError('must be a list of conditions, such as [{"field": "country", "in": ["DE", "AT"]}]')
        for index, raw in enumerate(conditions):
            try:
                condition_parse(raw, path=f"conditions[{index}]", known_fields=LEAD_FIELDS)
            except ConditionError as error:
                raise forms.ValidationError(f"{error.path}: {error.message}") from None
        return conditions


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ["position", "name", "team", "strategy", "active"]
