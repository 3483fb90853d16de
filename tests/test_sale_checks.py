"""``ponte check`` and the sale model: unknown ``sale.*`` paths (with the closest one) and
``sale.*`` on routes whose events are never sales, each named by its YAML path."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.__main__ import main
from service.config.sale_checks import check_sale_path, is_sale_path

HEAD = """\
sources:
  eduzz: {type: eduzz, secrets: [x1]}
  hotmart: {type: hotmart, hottok: h1}
sinks: {a: {type: file, path: /tmp/ponte-sale-checks.jsonl, format: slack}}
routes:
"""


def check(tmp_path: Path, routes: str, capsys) -> tuple[int, str]:
    path = tmp_path / "ponte.yaml"
    path.write_text(HEAD + routes)
    code = main(["check", "--config", str(path)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("route", "error"),
    [
        (
            "  - {name: r, events: [myeduzz.invoice_paid], where: {sale.amout: {gte: 300}}, to: [a]}\n",
            "routes[0].where.sale.amout: 'sale.amout' is not a sale field "
            "(did you mean 'sale.amount'?); see docs/sales.md",
        ),
        (
            "  - {name: r, events: ['*'], to: [a],\n"
            "     where: {all: [{sale.status: paid}, {sale.buyer.mail: {exists: true}}]}}\n",
            "routes[0].where.all[1].sale.buyer.mail: 'sale.buyer.mail' is not a sale field "
            "(did you mean 'sale.buyer.email'?)",
        ),
        (
            "  - name: r\n    events: [hotmart.*]\n    to:\n"
            "      - {sink: a, template: {text: '{{ sale.buyer.nome }}'}}\n",
            "routes[0].to[0].template ({{ sale.buyer.nome }}): 'sale.buyer.nome' is not a sale "
            "field (did you mean 'sale.buyer.name'?)",
        ),
        (
            "  - {name: r, events: [alpaclass.student_created], where: {sale.status: paid}, to: [a]}\n",
            "routes[0].where.sale.status: 'sale.status': alpaclass.student_created is not a sale, "
            "so sale.* is never set",
        ),
        (
            "  - name: r\n    events: [alpaclass.student_created, myeduzz.contract_created]\n"
            "    to: [a]\n"
            "  - name: s\n    events: [alpaclass.student_created, alpaclass.student_course_finished]\n"
            "    to:\n      - {sink: a, template: {text: '{{ sale.product }}'}}\n",
            "routes[1].to[0].template ({{ sale.product }}): 'sale.product': any of 2 events is not "
            "a sale, so sale.* is never set",
        ),
    ],
)
def test_sale_paths_are_checked_with_their_yaml_path(tmp_path, capsys, route, error):
    """Each problem is one error line naming where it is; ponte check exits 1."""
    code, err = check(tmp_path, route, capsys)
    assert code == 1 and error in err, err


def test_sale_paths_on_sale_routes_are_fine(tmp_path, capsys):
    """Known paths on routes that take sales (Eduzz invoices, Hotmart, any event) pass."""
    routes = (
        "  - {name: r, events: [myeduzz.invoice_paid], where: {sale.amount: {gte: 300}}, to: [a]}\n"
        "  - name: s\n    events: ['hotmart.*', '*']\n    where: {sale.buyer.document: {exists: true}}\n"
        "    to:\n      - {sink: a, template: {text: '{{ sale.total | brl }} {{ sale.buyer.name }}'}}\n"
    )
    code, err = check(tmp_path, routes, capsys)
    assert code == 0 and "sale" not in err, err


def test_check_sale_path_directly():
    """Unknown path: a suggestion when one is close, none otherwise; non-sale events named."""
    errors: list[str] = []
    check_sale_path("sale.plataform", "at", None, errors)
    check_sale_path("sale.utm_campaign_source_medium", "at2", None, errors)
    check_sale_path("sale.order_id", "at3", ["myeduzz.invoice_paid"], errors)
    check_sale_path("sale", "at4", ["alpaclass.student_created"], errors)
    assert errors == [
        "at: 'sale.plataform' is not a sale field (did you mean 'sale.platform'?); see docs/sales.md",
        "at2: 'sale.utm_campaign_source_medium' is not a sale field; see docs/sales.md",
        "at4: 'sale': alpaclass.student_created is not a sale, so sale.* is never set",
    ]
    assert is_sale_path("sale") and is_sale_path("sale.amount") and not is_sale_path("sales.x")
