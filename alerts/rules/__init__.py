"""The alert rules, one module each with the same shape (a ``RULE`` with ``name``, ``families``, ``on_event``,
``on_timer``; optionally ``derive`` and ``on_start``), registered here by name.

Adding a rule = one module + one line in ``RULES`` + its section in ``alerts.config.Rules``.
"""

from __future__ import annotations

from alerts.rules import (
    device_offline,
    gathering,
    key_person_gathering,
    key_person_missing,
    lingering,
    off_post,
)
from alerts.rules.base import Decision, Rule, RuleContext, RuleState, Subject

RULES: dict[str, Rule] = {
    m.RULE.name: m.RULE
    for m in (gathering, lingering, key_person_gathering, key_person_missing, off_post, device_offline)
}


def rules_for(family: str) -> tuple[Rule, ...]:
    """The rules that consume one event family, in registry order."""
    return _BY_FAMILY.get(family, ())


_BY_FAMILY: dict[str, tuple[Rule, ...]] = {}
for _rule in RULES.values():
    for _family in _rule.families:
        _BY_FAMILY[_family] = _BY_FAMILY.get(_family, ()) + (_rule,)

__all__ = ["RULES", "Decision", "Rule", "RuleContext", "RuleState", "Subject", "rules_for"]
