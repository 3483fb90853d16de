"""Template pieces every built-in message shares, whatever the channel (Slack, e-mail, chat).

Each returns Jinja source for ``templates.compile_template``: a field's value clipped after
the channel's escaping, and the non-empty summary items joined with " · ".
"""

from __future__ import annotations

from service.render.builtin.specs import Spec

VALUE_LIMIT = 300  # characters of one field value (Slack allows 2000)
ITEM_LIMIT = 100  # characters of one summary item
WHEN = "(sentDate or data.sentDate or received_at) | datetime"
SHOW = ("(value | tojson) if value is mapping or (value is iterable and value is not string) "
        "else value")  # fmt: skip


def value(source: str, limit: int = VALUE_LIMIT) -> str:
    """A field value (an expression or a template): clipped after escaping, "—" when empty."""
    body = source if "{{" in source or "{%" in source else f"{{{{ {source} }}}}"
    return f"{{% filter clip({limit}) | default('—', true) %}}{body}{{% endfilter %}}"


def summary(spec: Spec, first: str = "") -> str:
    """The summary items that are not empty, joined with " · ", the first after ``first``."""
    items = ", ".join(f"(({item}) | clip({ITEM_LIMIT}))" for item in spec.summary)
    return (f"{{% for s in [{items}] | select %}}{{{{ '{first}' if loop.first else ' · ' }}}}"
            "{{ s }}{% endfor %}")  # fmt: skip
