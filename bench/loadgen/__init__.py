"""Load-generating and baseline processes of the MQTT ingest bench, run as separate processes.

``publisher.py`` is the device fleet (QoS 1, its own cap on unacknowledged messages); ``counter.py`` is the
bare paho subscriber, the client library's ceiling. Both print one JSON line on stdout when done.
"""
