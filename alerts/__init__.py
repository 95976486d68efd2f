"""The alert engine: rules over the event streams → four-colour alerts handled in a closed loop.

Data flow, in module order: ``rules/`` (pure rules, one per file) → ``engine`` (partitions, timers, commit) →
``stages`` (dedup → suppress → persist → notify) → ``store`` (SQL) and ``notify`` (Redis, MQTT).
See docs/alerts.md.
"""
