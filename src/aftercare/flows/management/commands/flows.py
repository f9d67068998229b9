"""`aftercare flows …`: a store's flows from the command line, the same services as the API
and the dashboard.

    aftercare flows list --store S                    id, status, category, preset, figures, name
    aftercare flows presets --store S                 the ready-made flows, and which are on
    aftercare flows enable-preset review-request --store S [--dry-run]
    aftercare flows pause 12 --store S · aftercare flows resume 12 --store S
    aftercare flows export 12 --store S > review.yaml
    aftercare flows import review.yaml --store S [--dry-run]     (a new draft; `-` reads stdin)

`--dry-run` does everything — the checks that make a flow runnable included — in a transaction
that is rolled back, so `import FILE --dry-run` is how to validate a flow file before review.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from aftercare.core.errors import DomainError
from aftercare.flows import presets
from aftercare.flows import selectors as flows_selectors
from aftercare.flows import services as flows_services
from aftercare.flows.models import Flow, FlowStatus
from aftercare.stores import selectors as store_selectors
from aftercare.stores.models import Store

ACTIONS_WITH_ID = ("pause", "resume", "export")
MUTATING = ("enable-preset", "pause", "resume", "import")


class _DryRun(Exception):
    """Raised inside the transaction of a --dry-run to roll it back."""


class Command(BaseCommand):
    help = "List, enable, pause, resume, export and import a store's flows."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        actions = {
            "list": "the store's flows with their figures",
            "presets": "the ready-made flows, and which the store has",
            "enable-preset": "create and activate a preset's flow (once per store)",
            "pause": "stop new runs of a flow (waiting steps wait)",
            "resume": "activate a paused or draft flow",
            "export": "print a flow as YAML",
            "import": "create a draft flow from a YAML file ('-': stdin)",
        }
        for name, summary in actions.items():
            action = sub.add_parser(name, help=summary)
            action.add_argument("--store", required=True, help="store slug")
            if name == "enable-preset":
                action.add_argument("name", choices=presets.names(), metavar="NAME")
            elif name in ACTIONS_WITH_ID:
                action.add_argument("flow_id", type=int, metavar="ID")
            elif name == "import":
                action.add_argument("file", metavar="FILE")
            if name in MUTATING:
                action.add_argument(
                    "--dry-run", action="store_true", help="check and report, change nothing"
                )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            store = store_selectors.get_store_by_slug(slug=options["store"])
            if action == "list":
                self._list(store)
            elif action == "presets":
                self._presets(store)
            elif action == "export":
                flow = flows_services.get_flow(store=store, flow_id=options["flow_id"])
                self.stdout.write(flows_services.export_yaml(flow=flow), ending="")
            else:
                self._change(store, action, options)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc

    def _list(self, store: Store) -> None:
        flows = list(flows_selectors.flows(store=store))
        figures = flows_selectors.figures(store=store, flow_ids=[flow.pk for flow in flows])
        self.stdout.write("id\tstatus\tcategory\tpreset\tpending\truns\tsent\trevenue\tname")
        for flow in flows:
            f = figures[flow.pk]
            self.stdout.write(
                f"{flow.pk}\t{flow.status}\t{flow.category}\t{flow.preset or '-'}\t"
                f"{f.pending}\t{f.runs}\t{f.sent}\t{f.revenue}\t{flow.name}"
            )

    def _presets(self, store: Store) -> None:
        mine = {
            flow.preset: flow
            for flow in flows_selectors.flows(store=store).exclude(preset="").order_by("-pk")
        }
        for name in presets.names():
            flow = mine.get(name)
            state = f"flow {flow.pk} {flow.status}" if flow else "-"
            self.stdout.write(f"{name}\t{state}\t{presets.load(name).get('name', name)}")

    def _change(self, store: Store, action: str, options: dict[str, Any]) -> None:
        dry_run = bool(options.get("dry_run"))
        text = _read(options["file"]) if action == "import" else ""
        try:
            with transaction.atomic():
                message = self._apply(store, action, options, text)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            message = f"dry run, nothing changed: {message}"
        self.stdout.write(message)

    def _apply(self, store: Store, action: str, options: dict[str, Any], text: str) -> str:
        if action == "enable-preset":
            name = options["name"]
            existed = flows_selectors.flows(store=store).filter(preset=name).exists()
            flow = flows_services.enable_preset(store=store, name=name)
            verb = "is active" if existed else "created and active"
            return f"flow {flow.pk} ({flow.name}) from preset {name} {verb}"
        if action == "import":
            flow = flows_services.import_yaml(store=store, text=text)
            return f"imported flow {flow.pk} ({flow.name}) as a draft: resume it to activate"
        flow = flows_services.get_flow(store=store, flow_id=options["flow_id"])
        status = FlowStatus.PAUSED if action == "pause" else FlowStatus.ACTIVE
        flow = flows_services.set_status(flow=flow, status=status)
        return f"flow {flow.pk} ({flow.name}) is {_status(flow)}"


def _status(flow: Flow) -> str:
    return FlowStatus(flow.status).label.lower()


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
