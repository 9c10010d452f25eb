"""`amity audit ...`: read-only commands for auditors (they never write to the store).

Each command lives in the module of its concern; they are registered here, in the order
`amity audit --help` lists them."""

from __future__ import annotations

import typer

from amity.audit_cli.checkpoint import checkpoint_command
from amity.audit_cli.exports import export_command, report_command
from amity.audit_cli.history import as_of_command, history_command
from amity.audit_cli.reconcile import reconcile_command, replay_command
from amity.audit_cli.schedule import schedule_command
from amity.audit_cli.stats import stats_command
from amity.audit_cli.verify import verify_command

app = typer.Typer(help="Audit: history, state on any date, tamper evidence, reconcile, export.")

app.command("history")(history_command)
app.command("as-of")(as_of_command)
app.command("checkpoint")(checkpoint_command)
app.command("verify")(verify_command)
app.command("schedule")(schedule_command)
app.command("export")(export_command)
app.command("reconcile")(reconcile_command)
app.command("replay")(replay_command)
app.command("stats")(stats_command)
app.command("report")(report_command)
