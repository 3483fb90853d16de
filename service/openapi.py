"""The OpenAPI 3.1 document of the admin API (served at ``GET /api/openapi.json``)."""

from __future__ import annotations

from typing import Any

from service import __version__
from service.store import DELIVERY_STATUSES

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_NINT = {"type": ["integer", "null"]}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props) if required is None else required}


def _list(ref: str) -> dict[str, Any]:
    return _obj({"items": {"type": "array", "items": {"$ref": ref}}, "next": _NSTR})


def _q(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or _STR}


def _p(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "integer", "minimum": 0}}


def _ok(schema: dict[str, Any], *codes: int) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}
    for code in (401, *codes):
        responses[str(code)] = {"$ref": "#/components/responses/Error"}
    return responses


_ATTEMPT = _obj({"number": _INT, "started_at": _STR, "duration_ms": {"type": "number"}, "outcome": _STR,
                 "status_code": _NINT, "error": _NSTR, "response": _NSTR})
_DELIVERY = _obj({"id": _INT, "event_id": _INT, "sink": _STR, "route": _STR,
                  "status": {"enum": list(DELIVERY_STATUSES)},
                  "attempt_count": _INT, "next_attempt_at": _NSTR, "last_error": _NSTR},
                 ["id", "event_id", "sink", "route", "status", "attempt_count", "next_attempt_at", "last_error"])
_EVENT = _obj({"event_id": _INT, "source": _STR, "external_id": _STR, "event": _STR, "sent_date": _NSTR,
               "received_at": _STR}, ["event_id", "source", "external_id", "event", "sent_date", "received_at"])
_ATTEMPTS = _obj({"attempts": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}}})
_DETAIL = {"allOf": [{"$ref": "#/components/schemas/Event"},
                     _obj({"body": _STR, "deliveries": {"type": "array", "items": {
                         "allOf": [{"$ref": "#/components/schemas/Delivery"}, _ATTEMPTS]}}})]}
_SINK_SET = _obj({"name": _STR, "enabled": {"type": "boolean"}, "deliveries_changed": _INT})
_REFUSED = _obj({"status": _STR, "error": _STR, "errors": {"type": "array", "items": _STR}})
_ERROR = {"application/json": {"schema": _obj({"error": _STR})}}
_RESCHEDULED = _obj({"rescheduled": _INT, "skipped": _INT, "sending": _INT})
_BREAKERS = {"breaker_open_until": {"type": "object", "additionalProperties": _STR,
                                    "description": "sink -> when its breaker lets a try through"}}
_RESCHEDULED_ONE = _obj(_RESCHEDULED["properties"] | _BREAKERS)
_AGE = {"type": "string", "pattern": "^[0-9]{1,9}(ms|s|m|h|d)?$"}
_PURGED = _obj({"purged": _INT, "before": _STR, "older_than_seconds": {"type": "number"},
                "dry_run": {"type": "boolean"}})
_STATUS = {"enum": list(DELIVERY_STATUSES)}
_WHEN = {"anyOf": [{"type": "string", "format": "date-time"},
                   {"type": "string", "pattern": "^[0-9]{1,9}(ms|s|m|h|d)$"}, {"const": ""}]}
_CURSOR = {"type": "string", "pattern": "^[0-9]{0,18}$"}
_TEXT = {"type": "string", "minLength": 1}
_REPLAY_FILTERS = {
    "source": _TEXT, "event": _TEXT, "external_id": _TEXT, "status": _STATUS, "sink": _TEXT, "route": _TEXT,
    "since": {"anyOf": _WHEN["anyOf"][:2]}, "until": {"anyOf": _WHEN["anyOf"][:2]},
}
_FILTERS = [
    _q("source", "source name"), _q("event", "event name glob, e.g. myeduzz.invoice_*"),
    _q("external_id", "the sender's event id"), _q("since", "ISO-8601 time or an age like 24h", _WHEN),
    _q("until", "ISO-8601 time or an age like 1h", _WHEN),
    _q("limit", "page size", {"type": "integer", "minimum": 1, "maximum": 500}),
    _q("cursor", "the `next` of the previous page", _CURSOR),
]
_DELIVERY_FILTERS = [*_FILTERS, _q("status", "delivery status", _STATUS),
                     _q("sink", "sink name"), _q("route", "route name")]

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Ponte admin API", "version": __version__,
             "description": "Operate Ponte: find events and deliveries, replay, retry, manage sinks, reload."},
    "security": [{"bearer": []}],
    "paths": {
        "/api/events": {"get": {"summary": "List events, newest first", "parameters": _FILTERS,
                                "responses": _ok(_list("#/components/schemas/Event"), 400)}},
        "/api/events/{id}": {"get": {"summary": "One event with its raw body, deliveries and attempts",
                                     "parameters": [_p("id")],
                                     "responses": _ok({"$ref": "#/components/schemas/EventDetail"}, 400, 404)}},
        "/api/events/{id}/replay": {"post": {
            "summary": "Deliver an event again", "parameters": [_p("id")],
            "requestBody": {"required": False, "content": {"application/json": {"schema": _obj(
                {"sinks": {"type": "array", "items": _STR}}, []) | {"additionalProperties": False}}}},
            "responses": _ok(_RESCHEDULED_ONE, 400, 404, 409)}},
        "/api/deliveries": {"get": {"summary": "List deliveries, newest first", "parameters": _DELIVERY_FILTERS,
                                    "responses": _ok(_list("#/components/schemas/Delivery"), 400)}},
        "/api/deliveries/{id}": {"get": {"summary": "One delivery with its attempts", "parameters": [_p("id")],
                                         "responses": _ok({"$ref": "#/components/schemas/Delivery"}, 400, 404)}},
        "/api/deliveries/{id}/retry": {"post": {"summary": "Try one delivery again now", "parameters": [_p("id")],
                                                "responses": _ok(_RESCHEDULED_ONE, 400, 404, 409)}},
        "/api/replay": {"post": {
            "summary": "Replay every delivery matching a filter",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _obj(
                _REPLAY_FILTERS | {"all": {"type": "boolean"}}, [])
                | {"additionalProperties": False,
                   "anyOf": [{"required": ["all"], "properties": {"all": {"const": True}}},
                             *({"required": [key]} for key in _REPLAY_FILTERS)]}}}},
            "responses": _ok(_RESCHEDULED_ONE, 400)}},
        "/api/sinks": {"get": {"summary": "Configured sinks and their state",
                               "responses": _ok(_list("#/components/schemas/Sink"))}},
        "/api/sinks/{name}/enable": {"post": {"summary": "Enable a sink", "parameters": [_p("name", _STR)],
                                              "responses": _ok(_SINK_SET, 404)}},
        "/api/sinks/{name}/disable": {"post": {"summary": "Disable a sink", "parameters": [_p("name", _STR)],
                                               "responses": _ok(_SINK_SET, 404)}},
        "/api/reload": {"post": {"summary": "Re-read and swap the config", "responses": {
            **_ok(_obj({"status": _STR})),
            "422": {"description": "invalid config; the old one keeps running",
                    "content": {"application/json": {"schema": _REFUSED}}}}}},
        "/api/purge": {"post": {
            "summary": "Delete events older than an age (never one with a delivery still waiting)",
            "requestBody": {"required": False, "content": {"application/json": {"schema": _obj(
                {"older_than": {"anyOf": [_AGE, {"type": "integer", "minimum": 0}]},
                 "dry_run": {"type": "boolean"}}, []) | {"additionalProperties": False}}}},
            "responses": _ok(_PURGED, 400)}},
        "/api/openapi.json": {"get": {"summary": "This document", "responses": _ok({"type": "object"})}},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "responses": {"Error": {"description": "error", "content": _ERROR}},
        "schemas": {
            "Event": _EVENT, "EventDetail": _DETAIL, "Delivery": _DELIVERY, "Attempt": _ATTEMPT,
            "Sink": _obj({"name": _STR, "type": _STR, "enabled": {"type": "boolean"}, "disabled_reason": _NSTR,
                          "breaker": {"enum": ["open", "closed"]}, "breaker_reopens_at": _NSTR,
                          "in_flight": _INT, "backlog": _INT}),
        },
    },
}
