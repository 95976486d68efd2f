"""The parts of bench/ingest_mqtt.py (kept out of bench/*.py, which ``make bench`` runs one by one).

``publisher.py`` is the device fleet and ``counter.py`` the bare paho subscriber: both run as separate
processes and print one JSON line when done. ``contenders.py`` starts and reads the three contenders
(bare subscriber, Node-RED flow, OneScreen ingest) through one small interface.
"""
