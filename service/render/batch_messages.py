"""Built-in digest and report messages: which card an envelope makes, and its layout.

``render_batch(doc, kind)`` builds the ``Card`` of a ``ponte.digest`` / ``ponte.report``
envelope and lays it out with the format's layout (``service.render.batch_layouts``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.render.batch_cards import DIGEST_EVENT, REPORT_EVENT, digest_card, report_card
from service.render.formats import FORMATS
from service.store.records import Claimed

if TYPE_CHECKING:
    from service.config.settings import Settings

CARDS = {DIGEST_EVENT: digest_card, REPORT_EVENT: report_card}


def templated(settings: Settings, claimed: Claimed, template: object | None) -> bool:
    """Whether a digest or report uses its custom template rather than the built-in message.

    A report's template always applies. A target's template applies to its digests when the
    target always groups; with ``when_busy`` it is for the single messages.
    """
    if template is None or claimed.event != DIGEST_EVENT:
        return template is not None
    rule = settings.digests.get((claimed.route, claimed.sink))
    return rule is not None and rule.busy is None


def is_batch(source: str, event: str) -> bool:
    """Whether a stored event is a digest or a report Ponte made (source ``ponte``)."""
    return source == "ponte" and event in CARDS


def render_batch(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    """The built-in message of a ``ponte.digest`` / ``ponte.report`` envelope for a sink kind."""
    fmt = FORMATS.get(kind)
    if fmt is None or fmt.layout is None:
        raise ValueError(f"no built-in digest message for the {kind!r} format")
    layout = fmt.layout
    return layout(CARDS[doc["event"]](doc["data"]), doc)
