"""Sandboxed, structured Jinja2 templates: the messages sinks send.

A template is a tree (dict / list, as written in YAML) whose string leaves are Jinja2
templates; other leaves (numbers, booleans, null) pass through. Rendering keeps the
tree's shape, so a Slack Block Kit message or a JSON body is valid JSON by construction.

- A leaf that is exactly one expression, ``"{{ data.price.value }}"``, renders to the
  native value (number, bool, None, dict, list); any other leaf renders to a string.
- A missing payload field renders as ``""`` (``None`` in a one-expression leaf), however
  deep the path: payloads vary. An unknown filter or a syntax error is a ConfigError.
- Mapping keys win over methods: ``data.items`` is the invoice's ``items`` list.
- The sandbox refuses Python internals (``''.__class__`` ...): using one is a TemplateError.

Render context, built by the caller for each delivery::

    id           the envelope's ``id`` (missing in some Eduzz examples)
    event        the event name, app prefix restored (``myeduzz.invoice_paid``)
    sentDate     the envelope's ``sentDate`` (ISO-8601, may be missing)
    data         the envelope's ``data``
    source       the name of the source that received it
    event_id     Ponte's id of the stored event
    received_at  when Ponte received it (ISO-8601 string or datetime)

Escaping (of ``{{ }}`` output only, never of the text the author wrote), by ``kind``:
slack -- ``& < >`` become entities, so a payload cannot ping ``<!channel>`` or add a link
(use ``slack_link``); email -- leaves under an ``html`` key are HTML-autoescaped, the
``subject`` leaf gets control characters (CR/LF ...) replaced by spaces; webhook, file --
none.

Filters, on top of Jinja's own (``tojson``, ``join``, ``default`` ...): ``brl``, ``number``,
``percent``, ``date``, ``datetime`` (in the configured time zone), ``mask_email``,
``mask_document``, ``mask_phone``, ``payment_method``, ``status_pt``, ``slack_link``,
``safe_url``, ``clip``, ``flatten``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import ChainableUndefined, Template, Undefined, nodes
from jinja2 import exceptions as jinja_errors
from jinja2.nativetypes import NativeEnvironment  # noqa: F401  (documented alternative; not used)
from jinja2.sandbox import ImmutableSandboxedEnvironment

from service import template_filters as tf
from service.errors import ConfigError, TemplateError

KINDS = ("slack", "email", "webhook", "file")
DEFAULT_TIMEZONE = "America/Sao_Paulo"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
