"""The console's words in pt-BR (the default) and English, and how numbers and times look.

The language comes from the ``lang`` cookie (the switch in the page footer), else from
``Accept-Language`` (English only when it prefers English over Portuguese), else pt-BR.
"""

from __future__ import annotations

import re
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
    "Pausa automática": "Automatic pause", "pausado após falhas seguidas": "paused after repeated failures",
    "Envios pausados após falhas seguidas": "Sending paused after repeated failures",
    "pausadas": "paused", "Tipo de falha": "Kind of failure",
    "Falhas agrupadas por destino e tipo de falha": "Failures grouped by sink and kind of failure",
    "Comprador": "Buyer", "Produto": "Product", "Valor": "Amount",
    "Mostrar os eventos do próprio Ponte": "Show Ponte's own events",
}

STATUS_PT = {"scheduled": "agendada", "cancelled": "cancelada",  # follow-ups
             "pending": "pendente", "sending": "enviando", "succeeded": "entregue",
             "failed": "falhou", "disabled": "pausada", "accepted": "aceito", "ignored": "ignorado",
             "retry": "vai tentar de novo", "grouped": "aguarda o resumo",
             "digested": "enviada no resumo"}

# Ponte's own texts (errors, reasons, the route tester's verdicts) in pt-BR, by pattern. What
# a provider answered (inside "HTTP 500 (…)") is quoted as it came, never translated.
_PONTE_PT: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"timed out after (\S+)", r"tempo esgotado após \1"),
    (r"cannot connect \(", "não foi possível conectar ("),
    (r"connection failed", "a conexão falhou"),
    (r"the server closed the connection", "o servidor fechou a conexão"),
    (r"DNS lookup failed", "o endereço não foi encontrado (DNS)"),
    (r"TLS certificate not trusted", "certificado TLS não confiável"),
    (r"redirect not followed", "redirecionamento não seguido"),
    (r"too many redirects", "redirecionamentos demais"),
    (r"invalid URL", "URL inválida"),
    (r"the response body was cut off", "a resposta veio cortada"),
    (r"cannot write \(", "não foi possível gravar ("),
    (r"template failed: ", "o modelo da mensagem falhou: "),
    (r"(\S+) is not a valid phone number", r"telefone inválido (\1)"),
    (r"(\S+) is not a phone number", r"telefone inválido (\1 não é um número)"),
    (r"the phone number is empty", "telefone vazio"),
    (r"token request failed", "o pedido de token falhou"),
    (r"cannot reach the token endpoint", "não foi possível pedir o token"),
    (r"unexpected (\w+)", r"erro inesperado (\1)"),
    (r"disabled by an operator", "desativado por um operador"),
    (r"enabled: false in the config", "enabled: false na configuração"),
    (r"the receiver answered 410 Gone", "o destino respondeu 410 (não existe mais)"),
    (r"^matched \(stop: later routes are not evaluated\)$",
     "corresponde (interrompe: as rotas seguintes não são avaliadas)"),
    (r"^matched$", "corresponde"),
    (r"^source (.+) is not one of its sources \((.*)\)$", r"a origem \1 não é uma das origens da rota (\2)"),
    (r"^event (.+) matches none of its events globs$",
     r"o evento \1 não corresponde a nenhum padrão de eventos da rota"),
    (r"^condition failed: ", "condição não atendida: "),
    (r"^the pasted body is over 1 MB$", "o JSON colado passa de 1 MB"),
    (r"^choose a catalogue event or paste a JSON body$", "escolha um evento do catálogo ou cole um JSON"),
    (r"^empty body: expected a JSON object$", "corpo vazio: era esperado um objeto JSON"),
    (r"^malformed JSON: the body is not valid UTF-8$", "JSON inválido: o texto não é UTF-8"),
    (r"^malformed JSON: (.*)$", r"JSON inválido (\1)"),
    (r"^expected a JSON object, got (.*)$", r"era esperado um objeto JSON, veio \1"),
    (r"^JSON nested deeper than (\d+) levels$", r"JSON aninhado em mais de \1 níveis"),
    (r'^missing "event": the body must name its event$', 'falta "event": o corpo deve dizer qual é o evento'),
    (r'^"event" is longer than 200 characters$', '"event" tem mais de 200 caracteres'),
    (r"^no sink (.+)$", r"não há destino \1"),
    (r"^no event (\S+)$", r"não há evento \1"),
    (r"^invalid cursor: use the `next` of the previous page$", "página inválida: volte à primeira página"),
    (r"^status must be one of (.*)$", r"a situação deve ser uma de \1"),
    (r"^no delivery (\S+)$", r"não há entrega \1"),
    (r"^(event|delivery) ids are whole numbers \(0-9\), not (.+)$", r"os ids são números inteiros (0-9), não \2"),
    (r"^invalid time (.+?): use ISO-8601 \((\S+)\) or an age \(24h\)$",
     r"data inválida \1: use ISO-8601 (\2) ou uma idade (24h)"),
    (r"^event (\d+) has no deliveries to replay \(no route matched it\)$",
     r"o evento \1 não tem entregas para reenviar (nenhuma rota o aceitou)"),
    (r"^event (\d+) has no delivery to (.+) \(its sinks: (.*)\)$",
     r"o evento \1 não tem entrega para \2 (seus destinos: \3)"),
    (r"^event (\d+)'s delivery to (.+) is being sent right now: nothing was replayed "
     r"\(replay it again once that attempt ends\)$",
     r"a entrega do evento \1 para \2 está sendo enviada agora: nada foi reenviado "
     r"(reenvie quando essa tentativa terminar)"),
    (r"^none of event (\d+)'s sinks \((.*)\) is configured now: nothing was replayed$",
     r"nenhum destino do evento \1 (\2) está na configuração agora: nada foi reenviado"),
    (r"^delivery (\d+) is being sent right now$", r"a entrega \1 está sendo enviada agora"),
    (r"^sink (.+) is not configured any more$", r"o destino \1 não está mais na configuração"),
    (r"^the search took longer than its (\S+) budget or waited too long; narrow it \(period, event name\) "
     r"and try again$", r"a busca passou do limite de \1 ou esperou demais; restrinja o período ou o nome do "
     r"evento e tente de novo"),
))
_HTTP = re.compile(r"HTTP (\d{3})(?: \((.*)\))?$", re.DOTALL)


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

    def ponte(self, text: str | None) -> str:
        """One of Ponte's own texts (an error, a reason, a verdict) in this language."""
        if not text or self.lang != "pt":
            return text or ""
        head, answer = text, None
        http = _HTTP.search(text)
        if http is not None:  # the provider's answer is quoted as it came
            head = text[:http.start()] + f"o destino respondeu HTTP {http[1]}"
            answer = http[2]
        for pattern, words in _PONTE_PT:
            head = pattern.sub(words, head)
        return head if answer is None else f"{head}: «{answer}»"

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


def rate_text(per_second: float | None) -> str:
    """A sink's rate limit as a seller reads it: "2/s", "20/min", "1/h" ("" when unlimited)."""
    if not per_second:
        return ""
    for unit, seconds in (("s", 1), ("min", 60), ("h", 3600)):
        amount = per_second * seconds
        if amount >= 1 and abs(amount - round(amount)) < 0.01:
            return f"{round(amount)}/{unit}"
    if per_second * 60 >= 1:
        return f"{round(per_second * 60)}/min"
    return f"{max(1, round(per_second * 3600))}/h"
