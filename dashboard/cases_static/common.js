/* Shared by grid.js and desk.js: texts, the API with the session cookie, a small SVG map of grid cells. */
"use strict";
var CASES = JSON.parse(document.getElementById("cases-data").textContent);
function T(key, vals) {
  var s = CASES.texts["cases." + key] || key;
  if (vals) { Object.keys(vals).forEach(function (k) { s = s.replace("{" + k + "}", vals[k]); }); }
  return s;
}
function el(tag, attrs, kids) {
  var e = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) {
    if (k === "text") { e.textContent = attrs[k]; } else if (k.slice(0, 2) === "on") { e.addEventListener(k.slice(2), attrs[k]); }
    else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { e.setAttribute(k, attrs[k]); }
  });
  (kids || []).forEach(function (c) { if (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
  return e;
}
function api(method, path, body, type) {
  var opts = {method: method, credentials: "same-origin", headers: {}};
  if (body !== undefined) {
    if (type) { opts.headers["Content-Type"] = type; opts.body = body; }
    else { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  }
  return fetch(path, opts).then(function (r) {
    return r.json().catch(function () { return {}; }).then(function (j) {
      if (!r.ok) { var e = new Error(j.reason ? T("err." + j.reason) : (j.error || r.status)); e.status = r.status; e.reason = j.reason; throw e; }
      return j;
    });
  }, function () { var e = new Error(T("err.network")); e.status = 0; throw e; });
}
function when(iso) { return iso ? iso.slice(5, 16).replace("T", " ") : ""; }
function levelChip(doc) {
  var lv = doc.display_level || doc.level;
  return el("span", {"class": "chip lv-" + lv, text: T("lv." + lv)});
}
/* Cells as SVG polygons (equirectangular, good enough for a few km); onTap(lat, lon) on a tap inside. */
function cellMap(cells, point, onTap) {
  var xs = [], ys = [];
  function rings(g) { return g.type === "Polygon" ? [g.coordinates[0]] : g.coordinates.map(function (p) { return p[0]; }); }
  cells.forEach(function (c) { rings(c.geometry).forEach(function (r) { r.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); }); });
  if (!xs.length) { return el("div", {"class": "cellmap-empty"}); }
  var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
  var k = Math.cos((y0 + y1) / 2 * Math.PI / 180), W = 360, pad = 8;
  var sx = (W - 2 * pad) / Math.max((x1 - x0) * k, 1e-9), H = Math.max(120, Math.min(260, (y1 - y0) * sx + 2 * pad));
  var s = Math.min(sx, (H - 2 * pad) / Math.max(y1 - y0, 1e-9));
  function px(lon) { return pad + (lon - x0) * k * s; }
  function py(lat) { return H - pad - (lat - y0) * s; }
  var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + W + " " + H); svg.setAttribute("class", "cellmap");
  cells.forEach(function (c) {
    rings(c.geometry).forEach(function (r) {
      var p = document.createElementNS(ns, "polygon");
      p.setAttribute("points", r.map(function (q) { return px(q[0]).toFixed(1) + "," + py(q[1]).toFixed(1); }).join(" "));
      p.setAttribute("class", "cell"); p.setAttribute("data-cell-id", c.id || "");
      svg.appendChild(p);
    });
    if (c.name && c.lat) {
      var t = document.createElementNS(ns, "text"); t.setAttribute("x", px(c.lon)); t.setAttribute("y", py(c.lat));
      t.setAttribute("class", "cell-label"); t.textContent = c.name; svg.appendChild(t);
    }
  });
  if (point) {
    var m = document.createElementNS(ns, "circle"); m.setAttribute("cx", px(point.lon)); m.setAttribute("cy", py(point.lat));
    m.setAttribute("r", 6); m.setAttribute("class", "marker"); svg.appendChild(m);
  }
  if (onTap) {
    svg.addEventListener("click", function (ev) {
      var b = svg.getBoundingClientRect(), x = (ev.clientX - b.left) * W / b.width, y = (ev.clientY - b.top) * H / b.height;
      onTap(y0 + (H - pad - y) / s, x0 + (x - pad) / (k * s));
    });
  }
  return svg;
}
