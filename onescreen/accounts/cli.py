"""Helpers of the ``onescreen users`` commands that do more than one call (kept here so onescreen/cli.py stays
a thin list of commands)."""

from __future__ import annotations

import click

from onescreen.settings import Settings


def token_command(s: Settings, username: str, days: float | None) -> str:
    """Create an API token for ``username`` and return it (shown once). For ``onescreen users token``."""
    from onescreen.accounts.tokens import create_token
    from onescreen.db.session import make_engine, session_factory

    engine = make_engine(s.database.url)
    try:
        with session_factory(engine)() as session:
            try:
                token = create_token(session, username, days=days)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            session.commit()
    finally:
        engine.dispose()
    return token
