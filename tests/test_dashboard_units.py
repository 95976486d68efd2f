"""Pure parts of the dashboard: texts, the registry snapshot, map drill-down and camera-grid shapes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard.components.citymap import FALLBACK_BOUNDS, clicked_node, drill
from dashboard.i18n import AREA_TEXTS, TEXTS, Translator
from dashboard.registry import build_view, geometry_bounds
from onescreen.db.models import Camera, GridNode
from tests.dashboard_helpers import CJK, EAST, NORTH, SOUTH, WEST, small_city

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"


def test_both_languages_carry_the_same_keys():
    assert set(TEXTS["zh"]) == set(TEXTS["en"])
    assert all(TEXTS[lang][k].strip() for lang in TEXTS for k in TEXTS[lang])


@pytest.mark.parametrize("area", sorted(AREA_TEXTS))
def test_each_area_carries_the_same_keys_in_both_languages(area):
    texts = AREA_TEXTS[area]
    assert set(texts) == {"zh", "en"}
    assert set(texts["zh"]) == set(texts["en"]), set(texts["zh"]) ^ set(texts["en"])


def test_english_texts_hold_no_chinese():
    assert {k: v for k, v in TEXTS["en"].items() if CJK.search(v)} == {}
    assert {k for k, v in TEXTS["zh"].items() if "{" in v} == {k for k, v in TEXTS["en"].items() if "{" in v}


def _chinese_literals(path: Path) -> list[tuple[int, str]]:
    """String constants with Chinese in a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value)
            and id(node) not in docstrings]


def test_screen_text_lives_in_the_texts_modules():
    """A Chinese literal in a page or component would show in Chinese on an English screen."""
    # i18n.py and the per-area texts modules it merges (``*texts.py``, registered in i18n.AREA_TEXTS)
    # and the OpenAPI document (api/openapi/): developers' English with the field's Chinese terms as a glossary
    # (转办, 就地解决), served as JSON, never shown on a screen
    def is_texts_module(rel: str) -> bool:
        return rel == "i18n.py" or rel.endswith("texts.py") or rel.startswith("api/openapi/")

    stored_data: set[tuple[str, str]] = set()  # (RECEIPT_NOTE, audit data shown translated, is in alerts/commands.py)
    found = [(rel, line, text) for path in sorted(DASHBOARD.rglob("*.py"))
             if not is_texts_module(rel := path.relative_to(DASHBOARD).as_posix())
             for line, text in _chinese_literals(path) if (rel, text) not in stored_data]
    assert found == []


def test_translator_formats_and_falls_back():
    assert Translator("zh")("wall.data_as_of", time="21:15:30") == "数据截至 21:15:30"
    assert Translator("en")("alerts.empty") == "No alerts"
    assert Translator("en")("no.such.key") == "no.such.key"


@pytest.mark.parametrize("geometry,expected", [
    ({"type": "Polygon", "coordinates": [[[1, 2], [3, 2], [3, 5], [1, 2]]]}, [[2, 1], [5, 3]]),
    ({"type": "MultiPolygon", "coordinates": [[[[1, 2], [3, 2], [1, 2]]], [[[-1, 0], [0, 9], [-1, 0]]]]},
     [[0, -1], [9, 3]]),
    ({"type": "Polygon", "coordinates": []}, None),
])
def test_geometry_bounds(geometry, expected):
    assert geometry_bounds([geometry]) == expected


def _view():
    rows = small_city()
    nodes = [r for r in rows if isinstance(r, GridNode)]
    cameras = [r for r in rows if isinstance(r, Camera)]
    return build_view("测试市", nodes, cameras)


def test_build_view_shapes_the_registry_for_the_map():
    view = _view()
    assert not view.empty
    assert [f["id"] for f in view.districts["features"]] == ["D1", "D2"]
    assert len(view.communities["features"]) == 4
    assert [f["id"] for f in view.cells_of("D1-01")["features"]] == ["D1-01-A", "D1-01-B"]
    assert view.cells_of("D2-01")["features"] == []
    assert view.bounds == [[SOUTH, WEST], [NORTH, EAST]]
    assert (view.count("district"), view.count("community"), view.count("cell")) == (2, 4, 2)
    assert view.cameras_total == 3
    assert [c.id for c in view.streamed] == ["CAM-1", "CAM-2"]
    assert not hasattr(view.streamed[0], "password")  # credentials never reach the screen's data
    assert [n.id for n in view.path("D1-01-A")] == ["C", "D1", "D1-01", "D1-01-A"]


def test_empty_registry_view():
    view = build_view("测试市", [], [])
    assert view.empty and view.bounds is None and view.streamed == ()


def test_drill_down_and_back():
    view = _view()
    cells, viewport, chain = drill(view, "D1-01")
    assert len(cells["features"]) == 2
    assert viewport["bounds"] == view.node_bounds["D1-01"] and viewport["transition"] == "flyToBounds"
    assert [n.name for n in chain] == ["测试市", "西城街道", "北门社区"]
    cells, viewport, chain = drill(view, None)
    assert cells["features"] == [] and viewport["bounds"] == view.bounds and chain == []
    cells, viewport, chain = drill(view, "D1")  # a district: zoom to it, no cells
    assert cells["features"] == [] and viewport["bounds"] == view.node_bounds["D1"]
    assert drill(build_view("x", [], []), "nope")[1]["bounds"] == FALLBACK_BOUNDS


def test_clicked_node_reads_dash_leaflet_click_data():
    assert clicked_node({"type": "Feature", "properties": {"id": "D1-01"}}) == "D1-01"
    assert clicked_node({"type": "Feature", "id": "X", "properties": {}}) == "X"
    assert clicked_node(None) is None




@pytest.mark.services
@pytest.mark.parametrize("language,expected,absent", [("zh", "待处置告警", "Open alerts"),
                                                      ("en", "Open alerts", "待处置告警")])
def test_wall_texts_follow_the_configured_language(settings, language, expected, absent):
    import json

    from plotly.utils import PlotlyJSONEncoder

    from dashboard.app import create_app
    from dashboard.context import app_context
    from dashboard.pages import wall
    from tests.auth_helpers import create_users, logged_in_client
    from tests.dashboard_helpers import with_dashboard

    app = create_app(with_dashboard(settings, language=language))
    rendered = json.dumps(wall.layout(app_context(app.server)), cls=PlotlyJSONEncoder, ensure_ascii=False)
    assert expected in rendered and absent not in rendered
    admin = create_users(settings.database.url)["admin"]  # pages need a session (dashboard.auth)
    client = logged_in_client(app, admin.username, admin.password)
    assert f'lang="{"zh-CN" if language == "zh" else "en-GB"}"' in client.get("/").text
