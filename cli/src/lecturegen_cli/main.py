"""The `lecturegen` command: the commands of `stack` (running it), `demo` and `ops`
(operating a run), in the order `--help` lists them. Each command imports what it needs when
it runs, so `--help` and the quick commands stay fast."""

from __future__ import annotations

import typer

from lecturegen_cli.demo import commands as demo
from lecturegen_cli.ops import commands as ops
from lecturegen_cli.stack import commands as stack

app = typer.Typer(
    name="lecturegen",
    help="Run lecturegen on this machine: the whole pipeline, a demo lecture, status, rebuilds.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
projector_app = typer.Typer(
    help="Operate the timeline projector's PostgreSQL views.", no_args_is_help=True
)
app.add_typer(projector_app, name="projector")
dlt_app = typer.Typer(help="Look into the dead-letter topics.", no_args_is_help=True)
app.add_typer(dlt_app, name="dlt")

app.command()(stack.up)
app.command()(stack.down)
app.command()(ops.status)
app.command()(demo.demo)
app.command()(ops.redrive)
projector_app.command("rebuild")(ops.projector_rebuild)
dlt_app.command("show")(ops.dlt_show)
