"""Command-line helpers of the alerts group (``onescreen alerts replay``), kept here so onescreen/cli.py stays a
thin list of commands. API tokens (``onescreen users token``) are accounts: ``onescreen.accounts.cli``."""

from __future__ import annotations

import json

import click

from onescreen.settings import Settings


def _ms(value: str) -> int:
    from onescreen.timeutil import BadTime, epoch_ms, parse_ts

    try:
        return epoch_ms(parse_ts(int(value) if value.isdigit() else value))
    except BadTime as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from None


def replay_command(s: Settings, start: str, end: str, rules_file: str | None, as_json: bool) -> str:
    """The text (or JSON) report of a replay."""
    from alerts.config import RulesError, load_rules
    from alerts.replay import replay
    from onescreen.db.session import make_engine
    from onescreen.registry.cache import RegistryCache

    try:
        rules = load_rules(rules_file or s.alerts.rules_file)
    except RulesError as exc:
        raise click.ClickException(str(exc)) from None
    engine = make_engine(s.database.url)
    report = replay(
        engine, RegistryCache.load(engine), rules, _ms(start), _ms(end), s.city.timezone, s.redis.partitions
    ).as_dict()
    engine.dispose()
    if as_json:
        return json.dumps(report, ensure_ascii=False, indent=1)
    lines = [f"{report['events']} events replayed, {report['alerts']} alerts"]
    for title in ("by_rule", "by_level", "by_community"):
        lines.append(
            f"{title.replace('_', ' ')}: " + ", ".join(f"{k}={v}" for k, v in sorted(report[title].items()))
        )
    lines += [
        f"  {a['rule']:<22} {a['level']:<7} {a['community_id'] or '-':<8} {a['subject']}"
        for a in report["list"]
    ]
    return "\n".join(lines)
