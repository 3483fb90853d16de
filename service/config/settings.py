"""Settings: a config with everything derived from it compiled, swapped whole on reload."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from service.batches.digests import BusyMeter, Rule, digest_rules
from service.config.checks import check_routes
from service.config.load import load_config
from service.config.schema import Config
from service.config.source import redact_secrets
from service.errors import ConfigError
from service.ingest.sources import Source, build_source
from service.routing.followups import FollowUps, compile_followups
from service.routing.routes import CompiledRoute, compile_routes


@dataclass(frozen=True, slots=True)
class Settings:
    """One consistent view of the configuration; requests read it once and keep it."""

    config: Config
    routes: list[CompiledRoute]
    sources: dict[str, Source]
    templates: dict[tuple[str, str], Any] = field(default_factory=dict)
    disabled_sinks: frozenset[str] = frozenset()  # disabled by an operator or a 410 (from storage)
    digests: dict[tuple[str, str], Rule] = field(default_factory=dict)  # (route, sink) -> Rule
    busy: BusyMeter = field(default_factory=BusyMeter)  # when_busy rates (service.digests)
    followups: FollowUps = field(default_factory=FollowUps)  # service.routing.followups


def build_settings(config: Config) -> Settings:
    """Compile routes, templates and sources; raise ConfigError listing every problem."""
    errors: list[str] = []
    routes: list[CompiledRoute] = []
    try:
        routes = compile_routes(config)
    except ConfigError as exc:
        errors.extend(exc.errors)
    templates = check_routes(config, errors)
    if errors:
        raise ConfigError(errors)
    sources = {name: build_source(name, cfg) for name, cfg in config.sources.items()}
    return Settings(config, routes, sources, templates, digests=digest_rules(config),
                    followups=compile_followups(config))


def load_settings(path: str) -> Settings:
    """Load and fully validate a config file (no error shows a secret written in it)."""
    config = load_config(path)
    try:
        return build_settings(config)
    except ConfigError as exc:
        raise ConfigError(redact_secrets(exc.errors, config)) from None


class Holder:
    """The current Settings; ``swap`` replaces them atomically (one attribute store)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.listen_host: str | None = None  # set by ``serve``: reloads are judged against it

    def swap(self, settings: Settings) -> None:
        """Make ``settings`` current for every request and delivery that starts from now on."""
        self.settings = settings

    def mark_disabled(self, sinks: frozenset[str]) -> None:
        """Record which sinks are disabled, so ingest plans their deliveries as ``disabled``."""
        if sinks != self.settings.disabled_sinks:
            self.settings = replace(self.settings, disabled_sinks=sinks)
