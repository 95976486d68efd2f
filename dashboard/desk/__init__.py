"""Helpers of the desk pages (``/alerts``, ``/duty``, ``/patrol``, ``/admin``): queries, actions, components."""
