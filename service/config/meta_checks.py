"""Load-time checks of routes to meta_capi sinks: every event they send has a Meta event.

Without a template, only paid sales have a built-in event (a ``Purchase``,
``service.render.builtin.meta``): a route whose ``events`` may match anything else is an
error at ``routes[i].to[j]``. A template needs ``event``, and an ``event`` mapping needs
``event_name`` (``routes[i].to[j].template.event``). A ``pixel_id`` that is not digits
is refused by the config Struct itself (``sinks.meta.pixel_id``).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from service.config.schema import Config, MetaCapiConfig, RouteConfig
from service.eduzz import catalogue
from service.render.builtin.meta import MAPPED, has_builtin

_HINT = "give this target a template with event: {event_name: …}"


def check_meta_routes(config: Config, errors: list[str]) -> None:
    """Append every meta_capi route problem to ``errors`` as ``path: message``."""
    for i, route in enumerate(config.routes):
        for j, target in enumerate(route.targets):
            if not isinstance(config.sinks.get(target.sink), MetaCapiConfig):
                continue
            at = f"routes[{i}].to[{j}]"
            if target.template is None:
                errors.extend(_unmapped(route, i, at, target.sink))
            else:
                errors.extend(_template_errors(target.template, f"{at}.template"))


def _unmapped(route: RouteConfig, i: int, at: str, sink: str) -> list[str]:
    found = []
    for k, glob in enumerate(route.events):
        if not _only_mapped(glob):
            found.append(
                f"{at}: the meta_capi sink {sink!r} has no built-in Meta event for {glob!r} "
                f"(routes[{i}].events[{k}]); only paid sales ({', '.join(sorted(MAPPED))}) "
                f"become a Purchase by themselves: {_HINT}"
            )
    return found


def _only_mapped(glob: str) -> bool:
    """Whether every event ``glob`` can match has a built-in Meta event."""
    if has_builtin(catalogue.normalize_event_name(glob)):
        return True
    app = glob.split(".", 1)[0]
    hits = [e for e in catalogue.EVENT_NAMES if fnmatch.fnmatchcase(e, glob)]
    return bool(hits) and not any(ch in app for ch in "*?[") and all(map(has_builtin, hits))


def _template_errors(tree: dict[str, Any], at: str) -> list[str]:
    event = tree.get("event")
    if event is None:
        return [f"{at}: a meta_capi template needs event (the server event: event_name, user_data, …)"]
    if isinstance(event, dict) and not event.get("event_name"):
        return [f"{at}.event: event_name is missing (Purchase, Lead, InitiateCheckout, …)"]
    return []
