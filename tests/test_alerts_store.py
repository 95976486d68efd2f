"""alerts.store on SQLite: what an update and a clear do to an open alert's evidence."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts import notes, store
from alerts.rules.base import Decision, Subject
from onescreen.db.session import make_engine, session_factory

LOC = {"district_id": "D01", "community_id": "C0101", "cell_id": "G010101", "lat": 26.6, "lon": 118.1}


def decision(action: str, evidence: dict, level: str = "orange") -> Decision:
    now = datetime.now(UTC).timestamp()
    return Decision(action, "gathering", Subject("camera_zone", "C1/gate"), level, LOC, evidence, now)  # type: ignore[arg-type]


def test_an_update_replaces_the_evidence_and_a_clear_keeps_it(sqlite_url):
    engine = make_engine(sqlite_url)
    with session_factory(engine)() as session:
        alert = store.open_alert(session, decision("raise", {"persons": 12, "since": "t0"}), "Asia/Shanghai")
        assert store.apply_decision(session, alert, decision("update", {"persons": 31, "peak": 31, "since": "t0"},
                                                             "red"))
        assert alert.evidence == {"persons": 31, "peak": 31, "since": "t0"} and alert.level == "red"
        store.apply_decision(session, alert, decision("clear", {"persons": 2, "peak": 31, "since": "t9"}))
        session.commit()
        assert alert.evidence == {"persons": 31, "peak": 31, "since": "t0"}  # what raised it, for the operator
        assert alert.condition == "cleared" and alert.level == "red"
        history = store.history(session, alert, "Asia/Shanghai")
        assert [(h["action"], h["note"]) for h in history] == [
            ("open", notes.RAISED.format(rule="gathering")), ("level", notes.LEVEL.format(level="red")),
            ("clear", notes.CLEARED)]
    engine.dispose()
