"""Raw bundle files: GeoJSON, CSV and YAML in and out, with positions for error messages.

Reading yields raw mappings plus where each came from (CSV/YAML line, GeoJSON feature index); meaning is
checked later in ``validate.py``. Writing is canonical so a bundle written twice is byte-identical: UTF-8,
``\\n`` line ends, records sorted by id, fixed key/column order, floats written with ``repr`` (the shortest
text that reads back to the same double). Each file is written to a temporary name and renamed, so a
reader never sees half a file.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from onescreen.registry.records import Loc, Problems

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large, acyclic object graph.

    Reading a city allocates millions of short-lived objects (YAML nodes and marks, records); every 700
    allocations CPython would scan them all again for cycles that do not exist. Pausing cuts the YAML
    read of 19,000 cameras from ~5 s to ~1 s. Reference counting still frees memory meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# ---------------------------------------------------------------- reading
def read_geojson(path: Path, problems: Problems) -> list[tuple[dict[str, Any], Loc]]:
    """Features of a FeatureCollection as {**properties, "geometry": geometry}."""
    name = path.name
    try:
        doc = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        problems.add(f"{name} line {exc.lineno} column {exc.colno}", f"bad JSON: {exc.msg}")
        return []
    except (UnicodeDecodeError, ValueError) as exc:
        problems.add(name, f"bad JSON: {exc}")
        return []
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(
            doc.get("features"), list):
        problems.add(name, "must be a GeoJSON FeatureCollection with a 'features' list")
        return []
    out = []
    for i, feat in enumerate(doc["features"]):
        loc = Loc(name, index=i)
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            problems.add(loc.at(), "not a GeoJSON Feature")
            continue
        props, geom = feat.get("properties"), feat.get("geometry")
        if not isinstance(props, dict):
            problems.add(loc.at(), "properties must be an object")
            continue
        if "geometry" in props:
            problems.add(loc.at(props.get("id")), "unknown property 'geometry'")
            continue
        out.append(({**props, "geometry": geom}, loc))
    return out


def read_csv(path: Path, columns: Sequence[str], problems: Problems,
             optional: Sequence[str] = ()) -> list[tuple[dict[str, Any], Loc]]:
    """Rows as {column: value or None}; an empty field reads as None. The header must name every column
    except the ``optional`` ones (columns added later: a file written before them still imports)."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(name, f"not UTF-8: {exc}")
        return []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out: list[tuple[dict[str, Any], Loc]] = []
    try:
        header = next(reader, None)
        if header is None:
            problems.add(f"{name} line 1", f"empty file; expected header {','.join(columns)}")
            return out
        missing = [c for c in columns if c not in header and c not in optional]
        extra = [c for c in header if c not in columns]
        dups = sorted({c for c in header if header.count(c) > 1})
        if missing or extra or dups:
            bits = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
                [f"unknown column(s) {', '.join(map(repr, extra))}"] if extra else []) + (
                [f"repeated column(s) {', '.join(dups)}"] if dups else [])
            problems.add(f"{name} line 1", f"bad header: {'; '.join(bits)} (expected {','.join(columns)})")
            return out
        for row in reader:
            loc = Loc(name, line=reader.line_num)
            if not row:
                continue  # blank line
            if len(row) != len(header):
                problems.add(loc.at(), f"expected {len(header)} fields, got {len(row)}")
                continue
            out.append(({k: (v if v != "" else None) for k, v in zip(header, row)}, loc))
    except csv.Error as exc:
        problems.add(f"{name} line {reader.line_num}", f"bad CSV: {exc}")
    return out


def read_yaml_list(path: Path, problems: Problems) -> list[tuple[dict[str, Any], Loc]]:
    """Items of a top-level YAML list of mappings, each with its line (and its zones' lines)."""
    name = path.name
    try:
        loader = _Loader(path.read_bytes())
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else []
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name} line {mark.line + 1}" if mark else name
        problems.add(where, f"bad YAML: {exc.problem or exc}")
        return []
    except yaml.YAMLError as exc:
        problems.add(name, f"bad YAML: {exc}")
        return []
    if data is None:
        return []
    if not isinstance(data, list):
        problems.add(name, "top level must be a list of cameras")
        return []
    out = []
    for item, node in zip(data, root.value):
        loc = Loc(name, line=node.start_mark.line + 1)
        if not isinstance(item, dict):
            problems.add(loc.at(), "each item must be a mapping")
            continue
        keys = [k.value for k, _ in node.value]
        dups = sorted({k for k in keys if keys.count(k) > 1})
        if dups:
            problems.add(loc.at(item.get("id")), f"repeated key(s) {', '.join(dups)}")
            continue
        for key, value in node.value:
            if key.value == "zones" and isinstance(value, yaml.MappingNode):
                loc.zone_lines = {k.value: k.start_mark.line + 1 for k, _ in value.value}
        out.append((item, loc))
    return out


# ---------------------------------------------------------------- writing
def _atomic_write(path: Path, data: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data.encode("utf-8"))
    os.replace(tmp, path)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Header plus rows; None is an empty field, floats are repr()."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows([_cell(v) for v in row] for row in rows)
    _atomic_write(path, buf.getvalue())


def write_geojson(path: Path, features: Iterable[dict[str, Any]]) -> None:
    """A FeatureCollection with one feature per line, so a diff shows which nodes changed."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":"), allow_nan=False) for f in features]
    body = ",\n".join(lines)
    _atomic_write(path, '{"type":"FeatureCollection","features":[\n' + body + ("\n" if lines else "") + "]}\n")


def write_yaml_list(path: Path, items: list[dict[str, Any]]) -> None:
    """A block-style YAML list; leaf lists (points) in flow style, no line folding, UTF-8 as is."""
    text = yaml.dump(items, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=None,
                     width=1 << 30)
    _atomic_write(path, text)
