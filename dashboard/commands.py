"""The dashboard's one way into the command layer (``alerts.commands``, ``alerts.silences``, and the cases',
persons' commands beside them): who acts, and one transaction per command.

``actor(ctx, user)`` turns the API's account row or a desk's session user into an ``onescreen.commands.Actor``
with its scope resolved against the app's registry snapshot (``onescreen.scope.actor_of``), so the API and
the desks cut the city the same way. ``run(ctx, command, actor, input)`` opens a session and a Redis pipeline,
calls the command, commits, then sends what it announced; a ``CommandError`` rolls back and propagates for the
adapter to answer (HTTP status and English message, or the desk's text in the screen's language).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import has_request_context, request
from sqlalchemy.orm import Session

from alerts.commands import Effects
from dashboard.context import AppContext
from onescreen.commands import Actor, CommandError
from onescreen.scope import actor_of

T = TypeVar("T")


def remote_addr() -> str | None:
    return request.remote_addr if has_request_context() else None


def actor(ctx: AppContext, user: Any) -> Actor:
    """The Actor of a signed-in person (None: an Actor that sees nothing and may do nothing)."""
    from dashboard.desk.data import registry

    if user is None:
        return Actor(username="", role="", communities=frozenset())
    return actor_of(user, registry(ctx), remote_addr())


def run(ctx: AppContext, command: Callable[..., Any], who: Actor, inp: Any,
        render: Callable[[Session, Any], T] = lambda _s, result: result) -> T:
    """``command(session, who, inp, now, out)`` in one transaction, announced after the commit; what ``render``
    makes of its result while the session is still open (ORM rows expire when it closes)."""
    now = datetime.now(UTC)
    with Session(ctx.engine) as session:
        out = Effects(ctx.redis.pipeline(transaction=False), ctx.settings.city.timezone)
        try:
            result = command(session, who, inp, now, out)
        except CommandError:
            session.rollback()
            raise
        session.commit()
        out.pipe.execute()
        return render(session, result)


def error_text(ctx: AppContext, exc: CommandError) -> str:
    """A refusal in the screen's language (its text key), the English message when the key has no text."""
    text = ctx.t(exc.key, **{k: str(v) for k, v in exc.values.items()})
    return exc.message if text == exc.key else text
