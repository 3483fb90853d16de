"""The chat providers' local fakes, in one import: Telegram, Discord and Teams."""

from __future__ import annotations

from fake_discord import DiscordFake, discord_errors
from fake_teams import TEAMS_FLOW, TEAMS_LIMIT, TeamsFake, teams_errors
from fake_telegram import RETRY_AFTER, TELEGRAM_CHAT, TelegramFake, telegram_text_error

__all__ = [
    "RETRY_AFTER", "TEAMS_FLOW", "TEAMS_LIMIT", "TELEGRAM_CHAT", "DiscordFake", "TeamsFake",
    "TelegramFake", "discord_errors", "teams_errors", "telegram_text_error",
]  # fmt: skip
