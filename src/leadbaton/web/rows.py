"""The rows of the long lists, rendered by Jinja2 and placed into a page of Django's templates (decision 0028).

Django's template engine spends 3 to 5 µs on each value it writes; a list of 50 leads writes about 1,500 of them, which
was a third of the inbox's server time. The rows' templates live in web/jinja2/web/, escape every value as Django's do,
and name nothing that is not given (StrictUndefined: a typo is an error, not an empty cell).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe


def rows_html(request: HttpRequest, template_name: str, context: dict[str, Any]) -> SafeString:
    """The rows `template_name` writes for `context`, as markup a Django template places without escaping it again."""
    html = get_template(template_name, using="rows").render(context, request)
    return mark_safe(html)
