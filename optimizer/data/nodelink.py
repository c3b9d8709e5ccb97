"""The instance exchange format: networkx node-link JSON, written and read.

Node ids are strings, node attributes numbers, optionally with a GeoPackage of
polygons beside the file; the networkx adjacency layout (`adjacency` lists
instead of `links`) is read too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InstanceError
from .instance import Instance

RESERVED_NODE_KEYS = frozenset({"id", "name"})


def to_node_link(inst: Instance, edge_data: Mapping[tuple[int, int], Mapping] | None = None
                 ) -> dict:
    """The instance as a networkx node-link dict (deterministic order)."""
    import networkx as nx

    g = nx.Graph(**dict(inst.metadata), name=inst.name)
    for i, code in enumerate(inst.codes):
        attrs = {k: _json_number(v[i]) for k, v in inst.attributes.items()}
        attrs.update({k: v[i] for k, v in inst.text_attributes.items()})
        g.add_node(code, name=inst.names[i], **attrs)
    for a, b in inst.edges.tolist():
        g.add_edge(inst.codes[a], inst.codes[b], **dict((edge_data or {}).get((a, b), {})))
    if inst.matrix is not None:
        g.graph["distance_matrix"] = inst.matrix.tolist()
    if inst.metric != ("matrix" if inst.matrix is not None else "great_circle"):
        g.graph["distance_metric"] = inst.metric  # only when it is not the implied one
    return nx.node_link_data(g, edges="edges")


def _json_number(v: float) -> int | float:
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def instance_json(inst: Instance, edge_data=None) -> str:
    """The node-link JSON text of an instance (the same bytes for the same instance)."""
    data = to_node_link(inst, edge_data)
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def write_instance(inst: Instance, path: Path, edge_data=None) -> None:
    Path(path).write_text(instance_json(inst, edge_data), encoding="utf-8")


def from_node_link(
    data: Any, *, default_name: str = "instance", source: str = "<data>",
    geometry_path: Path | None = None, name_key: str | None = None,
    lon_key: str | None = None, lat_key: str | None = None, metric: str | None = None,
) -> Instance:
    """Build an instance from a node-link (or networkx adjacency) dict.

    Text attributes given on every node are kept as text (`Instance.text_attributes`), other
    non-numeric node attributes are dropped; numeric ones missing on some nodes
    are left out and listed in `Instance.partial` (coordinates must be
    complete). `name_key` names the attribute holding the display name
    (default `name`, falling back to the id; an explicit key must be on every
    node). `lon_key` / `lat_key` name attributes
    (numbers or numeric strings) copied into `lon` / `lat`. `metric` overrides
    the graph's own `distance_metric`.

    (long: one pass over the node-link dict, each check naming the file and the node)
    """
    if not isinstance(data, dict) or "nodes" not in data:
        raise InstanceError(f"{source}: not a node-link graph (no 'nodes' list)")
    links_key = next((k for k in ("edges", "links", "adjacency") if k in data), "edges")
    nodes = data["nodes"]
    links = data.get(links_key, [])
    if not isinstance(nodes, list) or not isinstance(links, list):
        raise InstanceError(f"{source}: 'nodes' and '{links_key}' must be lists")
    graph_attrs = dict(data["graph"]) if isinstance(data.get("graph"), dict) else {}
    codes: list[str] = []
    names: list[str] = []
    columns: dict[str, list] = {}
    for k, node in enumerate(nodes):
        if not isinstance(node, dict) or "id" not in node:
            raise InstanceError(f"{source}: node #{k} has no 'id'")
        code = str(node["id"])
        codes.append(code)
        if name_key is not None and name_key not in node:
            raise InstanceError(f"{source}: node {code!r} has no name attribute {name_key!r}")
        names.append(str(node.get(name_key or "name", code)))
        for key, val in node.items():
            if key in RESERVED_NODE_KEYS:
                continue
            columns.setdefault(key, [None] * len(nodes))[k] = val
    attributes = {}
    partial = {}
    texts = {}
    for key, vals in columns.items():
        numeric = [_is_number(v) for v in vals]
        if all(numeric):
            attributes[key] = np.array([_float(v) for v in vals])
        elif all(isinstance(v, str) for v in vals) and key != name_key:
            texts[key] = tuple(vals)
        elif all(ok or v is None for ok, v in zip(numeric, vals, strict=True)):
            k = vals.index(None)
            if key in ("lon", "lat", lon_key, lat_key):
                raise InstanceError(f"{source}: node {codes[k]!r} ({names[k]}) has no {key!r}")
            partial[key] = f"{names[k]} ({codes[k]})"
    for target, key in (("lon", lon_key), ("lat", lat_key)):
        if key is not None:
            attributes[target] = _coordinate(columns.get(key), key, codes, source)
    index = {c: i for i, c in enumerate(codes)}
    if len(index) != len(codes):
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise InstanceError(f"{source}: duplicate node ids {dup}")
    if links_key == "adjacency":
        if len(links) != len(nodes):
            raise InstanceError(f"{source}: 'adjacency' has {len(links)} lists for "
                                f"{len(nodes)} nodes")
        try:
            links = [{"source": codes[k], "target": nb["id"]}
                     for k, row in enumerate(links) for nb in row]
        except (KeyError, TypeError):
            raise InstanceError(f"{source}: 'adjacency' entries must be {{'id': ...}}") from None
    edges = []
    for link in links:
        try:
            edges.append((index[str(link["source"])], index[str(link["target"])]))
        except (KeyError, TypeError):
            raise InstanceError(f"{source}: edge {link!r} refers to an unknown node") from None
    matrix = graph_attrs.pop("distance_matrix", None)
    own_metric = graph_attrs.pop("distance_metric", None)
    name = str(graph_attrs.pop("name", default_name) or default_name)
    try:
        return Instance(
            name=name,
            codes=tuple(codes),
            names=tuple(names),
            attributes=attributes,
            edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
            matrix=None if matrix is None else _matrix(matrix),
            metadata=graph_attrs,
            geometry_path=geometry_path,
            metric=metric if metric is not None else own_metric,
            partial=partial,
            text_attributes=texts,
        )
    except InstanceError as exc:  # the constructor's checks: say which file
        raise InstanceError(f"{source}: {exc}") from None


def _matrix(value: Any) -> np.ndarray:
    """A distance matrix from JSON; anything that is not a numeric table gives NaN (refused)."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return np.full((1, 1), np.nan)


def _float(v: int | float) -> float:
    """A JSON number as a float; an integer beyond the double range becomes inf (refused)."""
    try:
        return float(v)
    except OverflowError:
        return float("inf")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _coordinate(values: list | None, key: str, codes: list[str], source: str) -> np.ndarray:
    """A coordinate column from numbers or numeric strings (such as '+42.9116429')."""
    if values is None:
        raise InstanceError(f"{source}: no node has the coordinate attribute {key!r}")
    out = np.empty(len(values))
    for k, v in enumerate(values):
        try:
            if isinstance(v, bool) or v is None:
                raise ValueError
            out[k] = float(v)
        except (TypeError, ValueError, OverflowError):
            raise InstanceError(
                f"{source}: node {codes[k]!r} has no numeric coordinate {key!r} (got {v!r})"
            ) from None
    return out
