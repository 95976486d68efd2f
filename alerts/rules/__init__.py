"""The alert rules, one module each with the same shape (a ``RULE`` with ``name``, ``families``, ``on_event``,
``on_timer``; optionally ``derive`` and ``on_start``), registered here by name.

Adding a rule = one module + its entry in the ``register`` loop below + its section in
``alerts.config.Rules``.
"""

from __future__ import annotations

from alerts.rules import (
    device_offline,
    entrance_surge,
    gathering,
    key_person_gathering,
    key_person_hiding,
    key_person_missing,
    lingering,
    off_post,
)
from alerts.rules.base import Decision, Rule, RuleContext, RuleState, Subject

RULES: dict[str, Rule] = {}
_BY_FAMILY: dict[str, tuple[Rule, ...]] = {}


def register(rule: Rule) -> Rule:
    """Add a rule to the registry (the built-in ones below; a test may add its own and ``unregister`` it)."""
    if rule.name in RULES:
        raise ValueError(f"rule {rule.name!r} is already registered")
    RULES[rule.name] = rule
    for family in rule.families:
        _BY_FAMILY[family] = _BY_FAMILY.get(family, ()) + (rule,)
    return rule


def unregister(name: str) -> None:
    """Take a rule out of the registry again."""
    rule = RULES.pop(name)
    for family in rule.families:
        _BY_FAMILY[family] = tuple(r for r in _BY_FAMILY[family] if r is not rule)


def rules_for(family: str) -> tuple[Rule, ...]:
    """The rules that consume one event family, in registry order."""
    return _BY_FAMILY.get(family, ())


for _module in (gathering, lingering, key_person_gathering, key_person_missing, off_post, device_offline,
                entrance_surge):
    register(_module.RULE)
register(key_person_hiding.RULE)  # issue 15; after key_person_missing, whose derive feeds it

__all__ = [
    "RULES", "Decision", "Rule", "RuleContext", "RuleState", "Subject", "register", "rules_for", "unregister",
]
