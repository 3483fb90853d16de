"""The console's words in pt-BR (the default) and English, and how numbers and times look.

The language comes from the ``lang`` cookie (the switch in the page footer), else from
``Accept-Language`` (English only when it prefers English over Portuguese), else pt-BR.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

LANGS = ("pt", "en")

_EN = {
    "Painel": "Overview", "Eventos": "Events", "Evento": "Event", "Falhas": "Failures",
    "Destinos": "Sinks", "Regras": "Routes", "Sair": "Log out", "Entrar": "Log in",
    "Agendados": "Scheduled", "Quando": "Due", "Comprador (e-mail oculto)": "Buyer (e-mail hidden)",
    "agendado para": "scheduled for",
    "era agendado para": "was scheduled for", "cancelado pela venda": "cancelled by sale",
    "evento": "event", "cancelado": "cancelled",
    "cancelado: a rota ou o destino saiu da configuração": "cancelled: its route or target left the configuration",
    "Nenhuma mensagem agendada.": "No scheduled messages.", "Nenhuma mensagem cancelada.": "No cancelled messages.",
    "Mensagens que esperam a hora de sair e se cancelam sozinhas (horários em":
    "Messages that wait for their time and cancel themselves (times in",
    "Senha ou token de administração": "Password or admin token",
    "Senha ou token incorretos.": "Wrong password or token.",
    "Muitas tentativas. Tente de novo em alguns minutos.": "Too many attempts. Try again in a few minutes.",
    "Sessão expirada ou formulário inválido. Recarregue a página.": "Session expired or invalid form. Reload the page.",
    "últimas 24 h": "last 24 h", "últimos 7 dias": "last 7 days", "Recebidos": "Received",
    "Entregues": "Delivered", "Falharam": "Failed", "Aguardando": "Waiting", "Pausados": "Paused",
    "Precisa de atenção": "Needs attention", "Tudo em ordem.": "All is well.",
    "Eventos e falhas por hora (24 h)": "Events and failures per hour (24 h)",
    "Destino": "Sink", "Fila": "Backlog", "Mais antigo": "Oldest", "Disjuntor": "Breaker",
    "Estado": "State", "Taxa de sucesso (24 h)": "Success rate (24 h)", "aberto": "open",
    "fechado": "closed", "ativo": "enabled", "desativado": "disabled",
    "Ativar": "Enable", "Desativar": "Disable", "Limite de envio": "Rate limit",
    "sem limite": "no limit", "Filtrar": "Filter", "Limpar": "Clear", "Nome do evento": "Event name",
    "Plataforma": "Platform", "Outras (token)": "Others (token)", "HMAC genérico": "Generic HMAC",
    "Origem": "Source", "Situação": "Status", "Período": "Period", "E-mail do comprador": "Buyer e-mail",
    "Id na Eduzz": "Eduzz id", "qualquer": "any", "Recebido em": "Received at",
    "Entregas": "Deliveries", "Próxima página": "Next page", "Primeira página": "First page",
    "Nenhum evento.": "No events.", "novos eventos aparecem aqui sozinhos": "new events appear here by themselves",
    "Há mais eventos novos: recarregue.": "There are more new events: reload.",
    "Envelope": "Envelope", "Corpo": "Body", "mostrar": "show", "ocultar": "hide",
    "Dados pessoais ocultos.": "Personal data hidden.", "Dados pessoais visíveis (registrado).":
    "Personal data shown (logged).", "Reenviar": "Replay", "Reenviar para todos os destinos":
    "Replay to every sink", "Tentativas": "Attempts", "Nenhuma tentativa ainda.": "No attempt yet.",
    "Baixar o corpo completo": "Download the whole body",
    "Corpo grande: mostrando o começo.": "Large body: showing the beginning.",
    "não está mais na configuração": "is no longer in the configuration",
    "Enviadas para a fila": "Queued", "ignoradas": "skipped", "Tentar de novo": "Retry",
    "Falhas agrupadas por destino e erro": "Failures grouped by sink and error",
    "Quantidade": "Count", "Erro": "Error", "Reenviar em massa": "Bulk replay",
    "Confirmar": "Confirm", "Cancelar": "Cancel", "Nenhuma falha.": "No failures.",
    "entregas serão enviadas de novo.": "deliveries will be sent again.",
    "Nada corresponde a esse filtro.": "Nothing matches that filter.",
    "Falhas recentes": "Recent failures", "Rota": "Route", "Eventos (globs)": "Events (globs)",
    "Condições": "Conditions", "Destinos da rota": "Targets", "Interrompe": "Stop", "sim": "yes", "não": "no",
    "Testar uma rota": "Try a route", "Evento do catálogo": "Catalogue event",
    "ou cole um JSON": "or paste a JSON body", "Testar": "Try", "Resultado": "Result",
    "Nenhum destino recebe este evento.": "No sink receives this event.",
    "Mensagem": "Message", "Idioma": "Language", "Hora": "Hour", "falhas": "failures",
    "eventos": "events", "Tempo": "Time", "Duração": "Duration", "Código": "Code",
    "Resultado da tentativa": "Outcome", "Resposta": "Response", "Abrir": "Open",
    "mostrando até": "showing up to", "ou mais": "or more", "Atualizar": "Refresh",
    "Tipo": "Type", "Destino removido com entregas esperando": "Removed sink with deliveries waiting",
    "Falhas definitivas": "Dead letters", "Disjuntor aberto": "Breaker open",
    "Desativado": "Disabled", "Ir para o conteúdo": "Skip to content", "Acessar o console": "Console login",
    "de": "from", "até": "until", "Rota e destino": "Route and sink",
    "A busca olha até": "The search looks at up to",
    "eventos por página; a próxima página continua de onde esta parou.":
    "events per page; the next page goes on where this one stopped.",
}

STATUS_PT = {"scheduled": "agendada", "cancelled": "cancelada",  # follow-ups
             "pending": "pendente", "sending": "enviando", "succeeded": "entregue",
             "failed": "falhou", "disabled": "pausada", "accepted": "aceito", "ignored": "ignorado",
             "retry": "vai tentar de novo"}


def choose(request: web.Request) -> str:
    """The page language: the switch's cookie, else Accept-Language, else pt."""
    chosen = request.cookies.get("lang")
    if chosen in LANGS:
        return chosen
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("pt"):
            return "pt"
        if tag.startswith("en"):
            return "en"
    return "pt"


def translator(lang: str) -> Words:
    """A function from a pt-BR text to the text in ``lang``."""
    return Words(lang)


class Words:
    """``t("Eventos")`` -> "Events" in English; pt-BR text is its own key."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, text: str) -> str:
        return _EN.get(text, text) if self.lang == "en" else text

    def status(self, value: str | None) -> str:
        """A delivery or event status in words."""
        if value is None:
            return ""
        return STATUS_PT.get(value, value) if self.lang == "pt" else value

    def count(self, value: int, cap: int | None = None) -> str:
        """1234 -> "1.234" (pt) or "1,234" (en); at ``cap`` -> "100.000+"."""
        text = f"{value:,}"
        text = text.replace(",", ".") if self.lang == "pt" else text
        return text + "+" if cap is not None and value >= cap else text


def local_time(value: str | float | None, zone: ZoneInfo, fmt: str = "%d/%m/%Y %H:%M:%S") -> str:
    """An ISO-8601 UTC string or unix time shown in the configured time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime(fmt)


def age(seconds: float | None, lang: str) -> str:
    """How long ago, short: "3 min", "2 h", "4 d"."""
    if seconds is None:
        return "—"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"
