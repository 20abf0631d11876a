"""The `mentorbot` command line (also `python -m bot`), as fixed by DESIGN.md.

A user mistake (bad config, bad flow, bad script, unknown person) is one clear line on stderr
and exit 1, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.config import Config, load_config
from bot.errors import FlowError, UserError
from bot.ops import logs

F = TypeVar("F", bound=Callable[..., Any])

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="config file (default: ./config.yaml, else the embedded defaults)",
)
data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="data directory (overrides storage.path)",
)


def friendly(func: F) -> F:
    """Turn `UserError` into one line on stderr and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FlowError as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            sys.exit(exc.exit_code)
        except UserError as exc:
            click.echo(f"mentorbot: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _config(config_path: Path | None, data_dir: Path | None = None) -> Config:
    config = load_config(config_path, data_dir)
    logs.configure(config.logging.level, config.logging.format)
    return config


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from bot.ops.version import version_line

        click.echo(version_line())
        ctx.exit()


@click.group(
    help="mentorbot: a mentoring charter made real on Telegram, WhatsApp and the terminal."
)
@click.option("-v", "--verbose", count=True,
              help="log events: -v info, -vv debug (ids only, never message text)")
@click.option("-q", "--quiet", is_flag=True, help="log errors only")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_show_version, help="the package and store schema versions")
def main(verbose: int, quiet: bool) -> None:
    logs.set_cli_level(verbose, quiet)  # the config's `logging` applies once it is read


@main.command(help="Start the enabled transports, the HTTP server and the scheduler.")
@config_option
@data_option
@friendly
def run(config_path: Path | None, data_dir: Path | None) -> None:
    from bot.server.runner import serve

    serve(_config(config_path, data_dir))


@main.command(help="Chat in the terminal as a person of the roster (/as ID switches person).")
@config_option
@data_option
@click.option("--as", "as_id", default=None, help="the person typing, e.g. console:alice")
@friendly
def console(config_path: Path | None, data_dir: Path | None, as_id: str | None) -> None:
    from rich.console import Console

    from bot.transports.console import run_console

    run_console(_config(config_path, data_dir), as_id, sys.stdin, Console())


@main.command(help="Try, teach and debug the bot in a web page, on a virtual clock.")
@config_option
@data_option
@click.option("--port", default=8765, show_default=True, help="port on 127.0.0.1")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="serve on another address (needs --token)")
@click.option("--token", default=None, envvar="MENTORBOT_STUDIO_TOKEN",
              help="required of every request when --host is not the loopback")
@click.option("--start", default=None, help="virtual time to start at, e.g. 2026-11-30T07:00+01:00")
@click.option("--stories", "stories_dir", type=click.Path(path_type=Path), default=Path("stories"),
              show_default=True, help="where 'save as story' writes and 'load' reads")
@friendly
def studio(config_path: Path | None, data_dir: Path | None, port: int, host: str,
           token: str | None, start: str | None, stories_dir: Path) -> None:
    from bot.studio.server import Options, serve

    options = Options(config=_config(config_path, data_dir), config_path=config_path, host=host,
                      port=port, token=token, start=_instant(start), stories=stories_dir)
    serve(options, click.echo)


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--start: not an ISO 8601 time: {text!r}") from None
    if when.tzinfo is None:
        raise UserError("--start needs a UTC offset, e.g. 2026-11-30T07:00+01:00")
    return when


@main.command(help="Replay a JSON Lines conversation script on a virtual clock ('-' reads stdin).")
@click.argument("script")
@config_option
@data_option
@friendly
def simulate(script: str, config_path: Path | None, data_dir: Path | None) -> None:
    from bot.transports.simulate import parse_script
    from bot.transports.simulate import simulate as run_simulation

    config = _config(config_path, data_dir)
    if script == "-":
        lines = sys.stdin.read().splitlines()
        name = "<stdin>"
    else:
        path = Path(script)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise UserError(f"{script}: no such script") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{script}: cannot read: {exc}") from None
        name = script
    events = parse_script(lines, name)
    run_simulation(config, events, sys.stdout)


@main.group(help="Trainers' tools: validate, draw and test the flows.")
def flows() -> None:
    pass


@flows.command(
    "validate", help="Check every flow and catalog; one 'path:line:col: message' per problem."
)
@config_option
@friendly
def flows_validate(config_path: Path | None) -> None:
    from bot.flows.validate import validate_all

    config = _config(config_path)
    summary = validate_all(config)
    click.echo(summary)


@flows.command("graph", help="Print a flow as a Mermaid state diagram.")
@click.argument("flow")
@click.option("-o", "output", type=click.Path(path_type=Path), default=None, help="write to FILE")
@config_option
@friendly
def flows_graph(flow: str, output: Path | None, config_path: Path | None) -> None:
    from bot.engine.texts import REQUIRED_TEXTS
    from bot.flows.loader import CONTRACT, load_flows
    from bot.flows.machine import mermaid

    config = _config(config_path)
    flowset = load_flows(config.paths.flows, REQUIRED_TEXTS, CONTRACT)
    if flow not in flowset.flows:
        raise UserError(f"unknown flow {flow!r}; flows: {', '.join(sorted(flowset.flows))}")
    text = mermaid(flowset.flows[flow])
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")


@flows.command("test", help="Run YAML conversation stories and show a readable diff on failure.")
@click.argument("stories", nargs=-1, type=click.Path(path_type=Path))
@config_option
@friendly
def flows_test(stories: tuple[Path, ...], config_path: Path | None) -> None:
    from bot.stories import run_stories

    failed = run_stories(list(stories), config_path, click.echo)
    if failed:
        sys.exit(1)


@main.group(help="Data rights: export or erase what is stored about a person.")
def data() -> None:
    pass


@data.command("export", help="Everything stored about one person.")
@click.option("--user", "user", required=True, help="person id, e.g. telegram:123456789")
@click.option("--format", "fmt", type=click.Choice(["json", "md", "html"]), default="json")
@config_option
@data_option
@friendly
def data_export(user: str, fmt: str, config_path: Path | None, data_dir: Path | None) -> None:
    from bot.data.export import export, render

    config = _config(config_path, data_dir)
    engine = _engine(config)
    try:
        profile = engine.profile(user)
        click.echo(render(export(engine, user), fmt, engine, profile.locale if profile else None))
    finally:
        engine.store.close()


@data.command("forget", help="Erase everything stored about one person.")
@click.option("--user", "user", required=True, help="person id")
@click.option("--yes", is_flag=True, help="confirm the erasure")
@config_option
@data_option
@friendly
def data_forget(user: str, yes: bool, config_path: Path | None, data_dir: Path | None) -> None:
    from bot.data.forget import forget

    if not yes:
        raise UserError("erasure cannot be undone: add --yes to confirm")
    engine = _engine(_config(config_path, data_dir))
    try:
        removed = forget(engine, user)
    finally:
        engine.store.close()
    click.echo(f"erased {user}: {removed}")


@data.command("check", help="Verify the store (integrity, orphans) and say what was found.")
@config_option
@data_option
@friendly
def data_check(config_path: Path | None, data_dir: Path | None) -> None:
    from bot.store import open_store
    from bot.store.check import check_store

    config = _config(config_path, data_dir)
    store = open_store(config)
    try:
        report = check_store(store, config)
    finally:
        store.close()
    for line in report.problems:
        click.echo(f"problem: {line}")
    for line in report.notes:
        click.echo(line)
    click.echo("store ok" if report.ok else f"{len(report.problems)} problem(s) found")
    if not report.ok:
        sys.exit(1)


@data.command(
    "migrate",
    help="Import a data directory of the first release (--from DIR) into the configured store.",
)
@click.option("--from", "source", default=None,
              help="a data directory written by the first release (TinyDB files), or "
                   "postgresql://… to copy a server store back into the embedded one")
@click.option("--to", "target", default=None,
              help="postgresql://… : copy the embedded store there (and back with --from URL)")
@config_option
@data_option
@friendly
def data_migrate(source: str | None, target: str | None, config_path: Path | None,
                 data_dir: Path | None) -> None:
    from bot.store import open_store

    config = _config(config_path, data_dir)
    if (source is None) == (target is None):
        raise UserError("say where from: --from DIR (a first-release data directory), "
                        "or where to: --to postgresql://…")
    if source is None or source.startswith("postgresql://"):
        from bot.store import copy  # type: ignore[attr-defined,unused-ignore]

        if source is None:
            click.echo(copy.copy_to(config, str(target)))
        else:
            click.echo(copy.copy_from(config, source))
        return
    from bot.store.legacy import import_directory

    if not Path(source).is_dir():
        raise UserError(f"{source}: no such directory")
    store = open_store(config, exclusive=True)
    try:
        report = import_directory(Path(source), store)
    finally:
        store.close()
    click.echo(report.summary())


@main.command(help="Print a single-use invitation code for a new mentee of MENTOR.")
@click.option("--mentor", "mentor", required=True, help="mentor id, e.g. telegram:123456789")
@click.option("--days", default=14, show_default=True, help="days before the code expires")
@config_option
@data_option
@friendly
def invite(mentor: str, days: int, config_path: Path | None, data_dir: Path | None) -> None:
    from bot.data.invitations import create_invitation

    engine = _engine(_config(config_path, data_dir))
    try:
        code, link = create_invitation(engine, mentor, days)
    finally:
        engine.store.close()
    click.echo(code)
    if link:
        click.echo(link)


@data.command("backup", help="Copy the embedded store to FILE (consistent, also while running).")
@click.argument("file", type=click.Path(path_type=Path))
@config_option
@data_option
@friendly
def data_backup(file: Path, config_path: Path | None, data_dir: Path | None) -> None:
    from bot.ops.backup import backup, embedded_store

    click.echo(backup(embedded_store(_config(config_path, data_dir).storage), file))


@data.command("restore", help="Replace the embedded store by FILE (the bot must be stopped).")
@click.argument("file", type=click.Path(path_type=Path))
@config_option
@data_option
@friendly
def data_restore(file: Path, config_path: Path | None, data_dir: Path | None) -> None:
    from bot.ops.backup import embedded_store, restore

    click.echo(restore(file, embedded_store(_config(config_path, data_dir).storage)))


@main.command(help="Write a starting config.yaml and an editable copy of the flows in DIR.")
@click.argument("directory", type=click.Path(path_type=Path))
@friendly
def init(directory: Path) -> None:
    from bot.ops.scaffold import init_project

    click.echo(init_project(directory))


def _engine(config: Config) -> Any:
    """An engine for the data commands: no policies, and the store shared with a running bot."""
    from bot.clock import RealClock
    from bot.engine.core import Engine
    from bot.engine.guard import Guard
    from bot.store import open_store

    store = open_store(config)
    try:
        return Engine(
            config, store, RealClock(), guard=Guard(config, safety=False, identifying=False)
        )
    except BaseException:
        store.close()
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
