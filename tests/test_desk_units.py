"""Patrol units as the supervisor desk judges them (dashboard.desk.data.unit_states), on a real Redis and the
small city's registry: a unit outside its post's shift is "off shift", not "no position" or "silent", so a
supervisor at 3 a.m. sees who is missing, not who is asleep; random spot checks pick units on shift."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest

from dashboard.app import create_app
from dashboard.context import app_context
from dashboard.desk import data
from onescreen import names
from onescreen.timeutil import on_shift
from sim.geometry import metres_to_deg
from tests import test_alerts_engine as base

pytestmark = pytest.mark.services
make_settings = base.make_settings  # the shared fixture: settings on a copy of the small city
TZ = "Asia/Shanghai"


def local_ts(hour: int) -> float:
    """Today at ``hour``:30 local time, as epoch seconds."""
    day = datetime.now(ZoneInfo(TZ)).replace(minute=30, second=0, microsecond=0)
    return (day.replace(hour=0) + timedelta(hours=hour)).timestamp()


def test_units_off_shift_are_told_apart_from_missing_ones(make_settings, small_city, redis_client):
    s = make_settings()
    reg = small_city.registry
    posts = {u: reg.post_of_unit(u) for u in reg.unit_ids() if reg.post_of_unit(u) is not None}
    # an hour at which some post is off shift (the small city staffs one post round the clock)
    hour = next(h for h in range(24) if not all(
        on_shift(p.shift_start, p.shift_end, datetime(2026, 1, 1, h, 30)) for p in posts.values()))
    now = local_ts(hour)
    local = datetime(2026, 1, 1, hour, 30)
    on = [u for u, p in posts.items() if on_shift(p.shift_start, p.shift_end, local)]
    off = [u for u in posts if u not in on]
    assert on and off
    at_post, away = on[0], (on[1] if len(on) > 1 else None)
    fixes = {at_post: posts[at_post]}
    for u in off:  # off shift, yet a fresh fix right at the post: still not expected there now
        fixes[u] = posts[u]
    for unit, post in fixes.items():
        redis_client.hset(names.PATROL_LATEST, unit, orjson.dumps(
            {"lat": post.lat, "lon": post.lon, "ts": int(now * 1000), "status": "patrolling"}))
    if away:
        p = posts[away]
        redis_client.hset(names.PATROL_LATEST, away, orjson.dumps(
            {"lat": p.lat + metres_to_deg(p.lat, p.radius_m + 150, 0)[0], "lon": p.lon, "ts": int(now * 1000)}))
    try:
        app = create_app(s)
        with app.server.app_context():
            states = {u.unit_id: u.state for u in data.unit_states(app_context(app.server), None, now=now)}
    finally:
        redis_client.hdel(names.PATROL_LATEST, *posts)
    assert states[at_post] == "on_post"
    assert all(states[u] == "off_shift" for u in off), states
    if away:
        assert states[away] == "off_post"


def test_the_supervisor_map_outlines_only_the_communities_in_scope(make_settings, small_city):
    from dashboard.auth.sessions import SessionUser

    reg = small_city.registry
    communities = reg.nodes_at("community")
    app = create_app(make_settings())
    with app.server.app_context():
        ctx = app_context(app.server)
        whole = data.community_outlines(ctx, None)
        one = data.community_outlines(ctx, SessionUser(1, "s", "supervisor", communities[0], "community", None, 0.0))
    assert whole[0].count(None) == len(communities) and len(whole[0]) == len(whole[1])
    assert one[0].count(None) == 1
    ring = reg.node(communities[0]).geometry["coordinates"][0]
    assert list(zip(one[0][:-1], one[1][:-1])) == [tuple(p) for p in ring]
