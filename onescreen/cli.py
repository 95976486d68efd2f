"""``onescreen``: one command line for every process and admin task.

Each process subcommand loads the settings (strict), sets up structured logging, checks that the services
it needs answer (a clear message instead of a traceback when they do not), then runs its worker's loop.
Heavy imports happen inside the commands so ``onescreen --help`` stays instant.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from onescreen.settings import ConfigError, Settings, load_settings

log = logging.getLogger("onescreen")


class Ctx:
    """What the top-level options give every subcommand."""

    def __init__(self, config: str | None, instance: str | None):
        self.config_path = config
        self.instance = instance
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    def start(self, kind: str) -> Settings:
        """Settings plus logging for a process of this kind."""
        from onescreen.log import setup_logging
        from onescreen.worker import default_instance

        s = self.settings
        self.instance = self.instance or default_instance()
        setup_logging(s.log.level, s.log.format, kind=kind, instance=self.instance)
        return s


pass_ctx = click.make_pass_decorator(Ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--config", "-c", type=click.Path(dir_okay=False), envvar="ONESCREEN_CONFIG",
              help="YAML settings file (ONESCREEN_CONFIG).")
@click.option("--instance", help="Instance name of this process (default host-pid).")
@click.pass_context
def main(ctx: click.Context, config: str | None, instance: str | None) -> None:
    """OneScreen: the city command center (一屏观全城). One subcommand per process."""
    ctx.obj = Ctx(config, instance)


def _run(c: Ctx, s: Settings, needs: tuple[str, ...], worker: str, **kwargs: object) -> None:
    """Check the services the process needs, then import and run its worker (``module:Class``)."""
    import importlib

    from onescreen.preflight import require

    try:
        require(s, needs)
    except ConnectionError as exc:
        raise click.ClickException(str(exc)) from None
    module, cls = worker.split(":")
    worker_cls = getattr(importlib.import_module(module), cls)
    sys.exit(worker_cls(s, c.instance, **kwargs).run())


# ------------------------------------------------------------------ processes
@main.command("ingest-mqtt")
@click.option("--drain", is_flag=True,
              help="Retire --instance: store what the broker queued for its session, then end the session.")
@pass_ctx
def ingest_mqtt(c: Ctx, drain: bool) -> None:
    """MQTT devices → validated, enriched events in Redis.

    The instance names the persistent MQTT session, so it must be stable across restarts (default: the host
    name). An instance that is gone for good still gets its share of the shared subscription queued by the
    broker: retire it with `onescreen --instance NAME ingest-mqtt --drain`.
    """
    import socket

    c.instance = c.instance or socket.gethostname()
    s = c.start("ingest-mqtt")
    _run(c, s, ("redis", "mqtt", "database"), "ingest.mqtt.worker:MqttIngestWorker", drain=drain)


@main.command("ingest-video")
@pass_ctx
def ingest_video(c: Ctx) -> None:
    """RTSP cameras → zone counts, dwell, snapshots and camera health in Redis."""
    s = c.start("ingest-video")
    _run(c, s, ("redis", "database"), "ingest.video.worker:VideoIngestWorker")


@main.group("alerts", invoke_without_command=True)
@click.pass_context
def alerts(ctx: click.Context) -> None:
    """The alert engine (rules → alerts → people). Without a subcommand: run it."""
    if ctx.invoked_subcommand is not None:
        return
    c: Ctx = ctx.obj
    s = c.start("alerts")
    _run(c, s, ("redis", "mqtt", "database"), "alerts.engine:AlertEngineWorker")


@main.command("archiver")
@pass_ctx
def archiver(c: Ctx) -> None:
    """Every event stream → the SQL event archive (its own consumer group, off the alert engine's path)."""
    s = c.start("archiver")
    _run(c, s, ("redis", "database"), "alerts.archiver:ArchiverWorker")


@alerts.command("replay")
@click.option("--from", "start", required=True, help="Window start: ISO 8601 with offset or epoch ms.")
@click.option("--to", "end", required=True, help="Window end (exclusive).")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False),
              help="Rules file to try (default: alerts.rules_file, else the CONTRACT defaults).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def alerts_replay(c: Ctx, start: str, end: str, rules_file: str | None, as_json: bool) -> None:
    """Run the rules over archived events and report what they raise; live alerts are not touched."""
    from alerts.cli import replay_command

    click.echo(replay_command(c.settings, start, end, rules_file, as_json))


@main.group("entrances")
def entrances() -> None:
    """Entrance line counts (issue #18)."""


@entrances.command("rollup")
@click.option("--hours", type=int, default=48, show_default=True, help="Copy this many past local hours.")
@pass_ctx
def entrances_rollup(c: Ctx, hours: int) -> None:
    """Copy the hourly in/out counts of every entrance line from Redis into SQL (run it from cron)."""
    from zoneinfo import ZoneInfo

    from ingest.video.entrance_history import rollup
    from onescreen.db.session import make_engine
    from onescreen.redisconn import connect

    s = c.start("entrances-rollup")
    engine = make_engine(s.database.url)
    try:
        n = rollup(connect(s.redis), engine, ZoneInfo(s.city.timezone), hours)
    finally:
        engine.dispose()
    click.echo(f"{n} hourly rows written")


@main.command("dashboard")
@pass_ctx
def dashboard(c: Ctx) -> None:
    """The wall screen, desks and HTTP API on dashboard.host:dashboard.port."""
    s = c.start("dashboard")
    _run(c, s, ("database",), "dashboard.server:DashboardWorker")


@main.command("assessment")
@pass_ctx
def assessment(c: Ctx) -> None:
    """The assessment sampler: camera health into hourly SQL aggregates every assessment.sample_every_s."""
    s = c.start("assessment")
    _run(c, s, ("redis", "database"), "assessment.sampler:AssessmentWorker")
@main.command("cases-worker")
@pass_ctx
def cases_worker(c: Ctx) -> None:
    """Reminds overdue cases (督办) to their assignee and the level above (issue #14)."""
    s = c.start("cases-worker")
    _run(c, s, ("database",), "cases.worker:CaseWorker")


@main.group("sim", invoke_without_command=True)
@click.option("--no-rtsp", is_flag=True, help="Do not serve camera streams.")
@click.pass_context
def sim(ctx: click.Context, no_rtsp: bool) -> None:
    """The simulated city. Without a subcommand: run it (publishes over MQTT, serves RTSP)."""
    if ctx.invoked_subcommand is not None:
        return
    c: Ctx = ctx.obj
    s = c.start("sim")
    _run(c, s, ("redis", "mqtt", "database"), "sim.runner:Simulator", with_rtsp=not no_rtsp)


@sim.command("generate")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder to write the bundle to.")
@click.option("--preset", type=click.Choice(["default", "nanchang"]), default="default", show_default=True)
@click.option("--seed", type=int, default=None, help="Random seed (default: sim.seed).")
@pass_ctx
def sim_generate(c: Ctx, out: str, preset: str, seed: int | None) -> None:
    """Generate a simulated city as a registry bundle (load it with `onescreen city import`)."""
    from onescreen.registry.bundle import write_bundle
    from sim.citygen import generate_city

    s = c.settings
    bundle = generate_city(preset=preset, seed=s.sim.seed if seed is None else seed,
                           rtsp_host=s.sim.rtsp_host, rtsp_port=s.sim.rtsp_port)
    write_bundle(Path(out), bundle)
    click.echo(f"wrote {preset} city to {out}: {len(bundle.nodes)} grid nodes, {len(bundle.doors)} doors, "
               f"{len(bundle.cameras)} cameras, {len(bundle.units)} patrol units")


@sim.command("scenario")
@click.argument("name")
@click.option("--target", help="Subject id (camera, door, community, unit, person); default: picked.")
@click.option("--duration", type=float, default=None, help="Seconds the scenario lasts (default: its own).")
@pass_ctx
def sim_scenario(c: Ctx, name: str, target: str | None, duration: float | None) -> None:
    """Inject a named scenario into the running simulated city (see `--help` of sim for the list)."""
    s = c.start("sim-scenario")
    from onescreen.preflight import require
    from sim.scenarios import SCENARIOS, ScenarioError, run_scenario

    if name not in SCENARIOS:
        raise click.ClickException(f"unknown scenario {name!r}; one of: {', '.join(sorted(SCENARIOS))}")
    try:
        require(s, ("redis", "mqtt", "database"))
    except ConnectionError as exc:
        raise click.ClickException(f"{exc}\n(for a running demo: onescreen -c var/demo/onescreen.yaml sim "
                                   f"scenario {name})") from None
    try:
        run_scenario(s, name, target=target, duration=duration)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("demo")
@click.option("--preset", type=click.Choice(["default", "nanchang"]), default="default", show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default="var/demo", show_default=True)
@click.option("--cluster", is_flag=True, help="Run on a local Redis Cluster (3 masters + 3 replicas)")
@pass_ctx
def demo(c: Ctx, preset: str, workdir: str, cluster: bool) -> None:
    """Everything on this machine: own Redis, Mosquitto, RTSP server, simulated city and all processes."""
    from onescreen.demo import run_demo

    sys.exit(run_demo(c.settings, Path(workdir), preset=preset, config_path=c.config_path, cluster=cluster))


# ------------------------------------------------------------------ admin
@main.group("db")
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_ctx
def db_upgrade(c: Ctx, revision: str) -> None:
    """Apply schema migrations (Alembic) to database.url."""
    from onescreen.db.session import upgrade
    from onescreen.log import redact_url

    upgrade(c.settings.database.url, revision)
    click.echo(f"database {redact_url(c.settings.database.url)} at {revision}")


@main.group("city")
def city() -> None:
    """The city registry (grid tree, devices, posts, units, watch list)."""


@city.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@pass_ctx
def city_import(c: Ctx, folder: str) -> None:
    """Replace the registry with a bundle folder (all or nothing)."""
    from onescreen.db.session import make_engine
    from onescreen.registry.bundle import RegistryError
    from onescreen.registry.importer import import_bundle

    engine = make_engine(c.settings.database.url)
    try:
        counts = import_bundle(engine, Path(folder), c.settings.persons.categories)
    except RegistryError as exc:
        raise click.ClickException(f"nothing imported:\n{exc}") from None
    click.echo("imported " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@city.command("export")
@click.argument("folder", type=click.Path(file_okay=False))
@pass_ctx
def city_export(c: Ctx, folder: str) -> None:
    """Write the registry as a bundle folder (the import format)."""
    from onescreen.db.session import make_engine
    from onescreen.registry.exporter import export_bundle

    export_bundle(make_engine(c.settings.database.url), Path(folder))
    click.echo(f"exported to {folder}")


@city.command("ensure-demo")
@click.option("--preset", type=click.Choice(["default", "nanchang"]), default="default", show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default="var/city", show_default=True)
@pass_ctx
def city_ensure_demo(c: Ctx, preset: str, workdir: str) -> None:
    """Upgrade the schema and load a generated city if the registry is empty (containers' first start)."""
    from onescreen.demo import ensure_city

    ensure_city(c.settings, Path(workdir), preset)
    click.echo("registry ready")


def _password_from(password_env: str | None) -> str:
    """A new password from --password-env, else asked twice at the terminal (never a command-line argument)."""
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise click.ClickException(f"environment variable {password_env} is empty or unset")
        return password
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


def _change_user(c: Ctx, change, done: str) -> None:
    """Run ``change(session)`` on the registry database and commit; a ValueError is the user's message."""
    from onescreen.db.session import make_engine, session_factory

    with session_factory(make_engine(c.settings.database.url))() as session:
        try:
            change(session)
            session.commit()
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(done)


@main.group("users")
def users() -> None:
    """Accounts."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["operator", "duty", "supervisor", "admin", "grid", "department"]),
              required=True)
@click.option("--scope", help="Grid node the user is limited to (default: the whole city).")
@click.option("--unit", help="Patrol unit of a duty user.")
@click.option("--worker", help="Grid worker of a grid user (W-…).")
@click.option("--department", help="Department of a department user.")
@click.option("--password-env", help="Read the password from this environment variable instead of a prompt.")
@pass_ctx
def users_add(c: Ctx, username: str, role: str, scope: str | None, unit: str | None, worker: str | None,
              department: str | None, password_env: str | None) -> None:
    """Create an account (the password is asked for, or read from --password-env; never an argument)."""
    from onescreen.accounts import add_user

    password = _password_from(password_env)
    _change_user(c, lambda s: add_user(s, username, password, role, scope_node_id=scope, unit_id=unit,
                                       worker_id=worker, department_id=department),
                 f"user {username} ({role}) added")


@users.command("deactivate")
@click.argument("username")
@pass_ctx
def users_deactivate(c: Ctx, username: str) -> None:
    """Stop an account: no sign-in, its bearer tokens refused at once, its sessions within 10 s."""
    from onescreen.accounts import set_active

    _change_user(c, lambda s: set_active(s, username, False), f"user {username} deactivated")


@users.command("activate")
@click.argument("username")
@pass_ctx
def users_activate(c: Ctx, username: str) -> None:
    """Let a deactivated account sign in again."""
    from onescreen.accounts import set_active

    _change_user(c, lambda s: set_active(s, username, True), f"user {username} reactivated")


@users.command("password")
@click.argument("username")
@click.option("--password-env", help="Read the password from this environment variable instead of a prompt.")
@pass_ctx
def users_password(c: Ctx, username: str, password_env: str | None) -> None:
    """Set a new password (asked for, or read from --password-env)."""
    from onescreen.accounts import set_password

    password = _password_from(password_env)
    _change_user(c, lambda s: set_password(s, username, password), f"password of {username} changed")


@users.command("scope")
@click.argument("username")
@click.option("--scope", help="Grid node the user is limited to (omitted: the whole city).")
@click.option("--unit", help="Patrol unit of a duty user (omitted: none).")
@pass_ctx
def users_scope(c: Ctx, username: str, scope: str | None, unit: str | None) -> None:
    """Move an account to another scope and patrol unit (its web sessions end within 10 s)."""
    from onescreen.accounts import set_scope

    _change_user(c, lambda s: set_scope(s, username, scope, unit),
                 f"user {username}: scope {scope or 'whole city'}, unit {unit or 'none'}")


@users.command("token")
@click.argument("username")
@click.option("--days", type=float, default=None, help="Days until it expires (default: the API's default).")
@pass_ctx
def users_token(c: Ctx, username: str, days: float | None) -> None:
    """Create a bearer token for the HTTP API (printed once; only its hash is stored)."""
    from onescreen.accounts.cli import token_command

    click.echo(token_command(c.settings, username, days))


@main.command("config")
@click.option("--reference", is_flag=True, help="Print every setting with its default and description (Markdown).")
@pass_ctx
def config(c: Ctx, reference: bool) -> None:
    """Check the configuration and print the effective settings (secrets masked)."""
    import yaml

    if reference:
        from onescreen.settings import reference_markdown

        click.echo(reference_markdown())
        return
    click.echo(yaml.safe_dump(c.settings.model_dump(mode="json"), allow_unicode=True, sort_keys=False))


if __name__ == "__main__":  # python -m onescreen.cli
    main()
