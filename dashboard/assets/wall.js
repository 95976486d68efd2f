/* Browser-side helpers of the wall: clock and staleness, the refresh gate, Leaflet style/marker functions
 * (dash-leaflet resolves {"variable": "onescreen.map.area"} by name), feed ages, layer toggles and the
 * camera wall's page cycling and frame refresh. Loaded before the Dash renderer starts. Everything here
 * holds a bounded amount of state (no growing arrays, object URLs revoked) so a wall runs for days. */
(function () {
  "use strict";
  var formatters = {};
  var NO = function () { return window.dash_clientside.no_update; };
  var live = {busy: false, busyAt: 0, n: 0, lastOkAt: null, lastOkText: null, everOk: false, loadedAt: Date.now(),
              camStatus: {}};
  window.onescreen = window.onescreen || {};
  window.onescreen.live = live;

  function fmt(locale, tz, kind) {
    var key = locale + "|" + tz + "|" + kind;
    if (!formatters[key]) {
      var opts = kind === "time"
        ? {timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"}
        : {timeZone: tz, year: "numeric", month: "long", day: "numeric", weekday: "long"};
      formatters[key] = new Intl.DateTimeFormat(locale, opts);
    }
    return formatters[key];
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    onescreen: {
      /* Clock in the configured timezone, plus "data as of" and the stale banner from the last good answer. */
      clock: function (_n, cfg) {
        var c = cfg || {}, tx = c.text || {};
        var tz = c.tz || "Asia/Shanghai", locale = c.locale || "zh-CN";
        var now = new Date();
        var since = live.lastOkAt === null ? now - live.loadedAt : now - live.lastOkAt;
        var stale = since > (c.staleMs || 6000) || live.lastOk === false;
        var asOf, asCls, banner, bannerCls;
        if (!live.everOk) {
          asOf = stale ? (tx.down || "") : "…"; asCls = "data-as-of" + (stale ? " stale" : "");
        } else {
          asOf = (stale ? tx.stale : tx.asOf || "").replace("{time}", live.lastOkText);
          asCls = stale ? "data-as-of stale" : "data-as-of";
        }
        if (stale) {
          banner = live.everOk ? (tx.banner || "").replace("{time}", live.lastOkText) : tx.bannerNever;
          bannerCls = "stale-banner";
        } else {
          banner = ""; bannerCls = "stale-banner hidden";
        }
        return [fmt(locale, tz, "time").format(now), fmt(locale, tz, "date").format(now), asOf, asCls,
                banner, bannerCls];
      },
      /* One refresh in flight at a time: a tick while the previous one runs is skipped (10 s: given up). */
      gate: function (_n, scope) {
        var now = Date.now();
        var frame = document.getElementById("city-map-frame");  // drilled: the district names make way
        if (frame) { frame.classList.toggle("drilled", !!scope); }
        if (live.busy && now - live.busyAt < 10000) { return NO(); }
        live.busy = true; live.busyAt = now; live.n += 1;
        return {n: live.n, t: now};
      },
      /* The server answered: free the gate, remember a good answer, paint camera states. */
      done: function (status, cams) {
        var trig = window.dash_clientside.callback_context.triggered || [];
        var answered = trig.some(function (t) { return t.prop_id && t.prop_id.indexOf("wall-refresh-status") === 0; });
        if (answered && status) {
          live.busy = false;
          live.lastOk = status.ok;
          if (status.ok) { live.lastOkAt = Date.now(); live.lastOkText = status.at; live.everOk = true; }
        }
        if (cams) { live.camStatus = cams; paintCameras(); }
        return NO();
      },
      mode: function (n, cfg) {
        var tx = (cfg || {}).text || {};
        var density = (n || 0) % 2 === 1;
        return [density ? "density" : "alert", density ? tx.modeDensity : tx.modeAlert];
      }
    }
  });

  /* ---------------------------------------------------------------- map styles */
  var LEVEL = {red: "#ff4d4f", orange: "#ff9f1a", yellow: "#ffd84d"};
  var GREEN = "#2fbf71";
  function density(n, max) {
    if (!n) { return "#12324f"; }
    var r = Math.min(1, n / Math.max(1, max));
    var stops = [[0, [31, 111, 163]], [0.5, [255, 159, 26]], [1, [255, 77, 79]]];
    var i = r < 0.5 ? 0 : 1, a = stops[i], b = stops[i + 1], f = (r - a[0]) / (b[0] - a[0]);
    var c = [0, 1, 2].map(function (k) { return Math.round(a[1][k] + f * (b[1][k] - a[1][k])); });
    return "rgb(" + c.join(",") + ")";
  }
  /* Registry names are data: shown as text, never parsed as HTML. */
  function textEl(s) { var e = document.createElement("span"); e.textContent = s || ""; return e; }
  window.onescreen.map = {
    label: function (feature, layer) {
      var p = feature.properties || {};
      if (p.name) {
        layer.bindTooltip(textEl(p.name), {permanent: true, direction: "center", className: "os-map-label",
                                   interactive: false, opacity: 1});
      }
    },
    hover: function () { return {weight: 2.5, color: "#ffffff"}; },
    /* Community / cell fill: highest open alert level (green: none), or alert density over 7 days. */
    area: function (feature, context) {
      var h = (context && context.hideout) || {};
      var p = feature.properties || {}, id = p.id || feature.id;
      var cell = p.level === "cell";
      var fill = h.mode === "density" ? density((h.density || {})[id], h.dmax || 1)
                                      : (LEVEL[(h.level || {})[id]] || GREEN);
      var sel = h.sel && h.sel === id;
      if (sel && !cell) {  // the community drilled into: its cells carry the colours, keep only the outline
        return {className: "os-area os-area-" + id, color: "#ffffff", weight: 3, opacity: 0.95, fillOpacity: 0.04,
                fillColor: fill};
      }
      return {className: "os-area os-area-" + id,
              color: sel ? "#ffffff" : (cell ? "#8fe9ff" : "#2a86c2"), weight: sel ? 3 : (cell ? 1 : 1.2),
              opacity: 0.95, dashArray: cell && !sel ? "4 3" : null, fillColor: fill,
              fillOpacity: cell ? 0.45 : ((h.level || {})[id] || h.mode === "density" ? 0.5 : 0.22)};
    },
    /* Markers: cameras/doors (online/offline), patrol units (on post / moving / off), open alerts; an alert
     * placed at its community's or cell's label point (no coordinates of its own, p.at) has a dashed ring, and
     * the number of alerts sharing that point (p.n) when there are several. Clusters ("<kind>_cluster") show
     * on/total. Every text (p.tip) comes from the server in the screen's language; a click on any marker is a
     * drill-down towards its node (pages/wall.py), so markers never swallow a click meant for the area. */
    point: function (feature, latlng) {
      var p = feature.properties || {}, k = p.kind, o, m;
      var layer = k === "alert" ? "alerts" : (k.indexOf("patrol") === 0 ? "patrol"
                  : k.indexOf("camera") === 0 ? "cameras" : "doors");
      if (k.slice(-8) === "_cluster") {
        var state = p.on >= p.n ? "all" : (p.on === 0 ? "none" : "some");
        m = L.marker(latlng, {pane: "os-markers", keyboard: false, icon: L.divIcon({
          className: "os-marker os-marker-" + layer + " os-cluster os-cluster-" + layer + " os-cluster-" + state,
          html: "<span>" + p.on + "/" + p.n + "</span>", iconSize: null})});
        m.bindTooltip(textEl(p.tip), {className: "os-tip", direction: "top"});
        return m;
      }
      if (k === "alert") {
        o = {radius: 9, color: "#ffffff", weight: 2, fillColor: LEVEL[p.level] || "#ffd84d", fillOpacity: 1,
             dashArray: p.at ? "4 3" : null, pane: "os-alerts"};
      } else if (k === "patrol") {
        var c = {on_post: "#3ddc84", moving: "#38c8ff", off: "#8a8f98"}[p.state] || "#8a8f98";
        o = {radius: 6, color: "#02101f", weight: 1.5, fillColor: c, fillOpacity: 1};
      } else if (k === "camera") {
        o = {radius: 3.5, color: p.on ? "#7fd1ff" : "#ff4d4f", weight: 1, fillColor: p.on ? "#1f8fff" : "#ff4d4f",
             fillOpacity: 0.9};
      } else {
        o = {radius: 3, color: p.on ? "#c9a7ff" : "#ff4d4f", weight: 1, fillColor: p.on ? "#8b5cf6" : "#ff4d4f",
             fillOpacity: 0.9};
      }
      o.pane = o.pane || "os-markers";
      if (k === "alert" && p.silenced) { o.color = "#8a8f98"; o.weight = 3; }  // 静默中: marked, still shown
      o.className = "os-marker os-marker-" + layer + (k === "alert" && p.at ? " os-marker-at" : "")
                    + (k === "alert" ? " os-level-" + p.level : "") + (k === "alert" && p.silenced ? " os-silenced" : "");
      if (k === "alert" && p.n > 1) { o.radius = 11; }
      m = L.circleMarker(latlng, o);
      if (k === "alert" && p.n > 1) {  // several alerts on one label point: one marker with their number
        m.bindTooltip(String(p.n), {permanent: true, direction: "center", className: "os-count", pane: "os-alerts"});
      } else { m.bindTooltip(textEl(p.tip), {className: "os-tip"}); }
      return m;
    },
    /* An area's name at its label point: text only, never in the way of a click. */
    name: function (feature, latlng) {
      var p = feature.properties || {};
      var span = textEl(p.name);
      return L.marker(latlng, {pane: "os-labels", interactive: false, keyboard: false, icon: L.divIcon({
        className: "os-name os-name-" + (p.level || "") + (p.sel ? " os-name-sel" : ""),
        html: span.outerHTML, iconSize: null})});
    }
  };

  /* ---------------------------------------------------------------- feed ages, layer toggles */
  function age(ms, zh) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) { return zh ? s + "秒前" : s + " s ago"; }
    if (s < 3600) { return zh ? Math.floor(s / 60) + "分钟前" : Math.floor(s / 60) + " min ago"; }
    if (s < 86400) { return zh ? Math.floor(s / 3600) + "小时前" : Math.floor(s / 3600) + " h ago"; }
    return zh ? Math.floor(s / 86400) + "天前" : Math.floor(s / 86400) + " d ago";
  }
  function tickAges() {
    var zh = (document.documentElement.lang || "zh").indexOf("zh") === 0, now = Date.now();
    var items = document.querySelectorAll("#alert-feed [data-ts]");
    for (var i = 0; i < items.length; i++) {
      var el = items[i].querySelector(".alert-age");
      if (el) { el.textContent = age(now - Number(items[i].getAttribute("data-ts")), zh); }
    }
    watchFeed();
    fitFeed();  // once a second too: the panel moves or its items grow (a font, a panel above) without a mutation
  }
  /* The feed shows what fits the panel; the items that do not are hidden and counted, with the ones the server
   * left out (data-more), on the "还有 N 条" line (dashboard/components/wall_feed.py): never a silent overflow. */
  function fitFeed() {
    var feed = document.getElementById("alert-feed");
    var more = feed && feed.querySelector(".alert-more");
    if (!more) { return; }
    var items = feed.querySelectorAll(".alert-item[data-alert-id]");
    for (var i = 0; i < items.length; i++) { items[i].classList.remove("feed-hidden"); }
    more.classList.remove("hidden");
    var bottom = feed.getBoundingClientRect().bottom, base = Number(more.getAttribute("data-more")) || 0;
    var all = items.length && items[items.length - 1].getBoundingClientRect().bottom <= bottom + 0.5;
    var room = base === 0 && all ? bottom : bottom - more.getBoundingClientRect().height - 8;
    var hidden = 0;
    for (var j = 0; j < items.length; j++) {
      if (hidden || items[j].getBoundingClientRect().bottom > room + 0.5) { items[j].classList.add("feed-hidden"); hidden++; }
    }
    var n = base + hidden;
    more.textContent = (more.getAttribute("data-template") || "{n}").replace("{n}", String(n));
    more.classList.toggle("hidden", n === 0);
  }
  var feedObserved = null;
  function watchFeed() {
    var feed = document.getElementById("alert-feed");
    if (!feed || feed === feedObserved) { return; }
    feedObserved = feed;
    new MutationObserver(function () { fitFeed(); }).observe(feed, {childList: true});
    fitFeed();
  }
  window.addEventListener("resize", function () { fitFeed(); });
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest(".layer-toggle");
    if (!b) { return; }
    var frame = document.getElementById("city-map-frame");
    var name = b.getAttribute("data-layer");
    var on = b.classList.toggle("on");
    if (frame) { frame.classList.toggle("hide-" + name, !on); }
  });

  /* ---------------------------------------------------------------- camera wall */
  var cam = {page: 0, pageAt: Date.now(), inflight: {}, urls: {}};
  var PAGE_MS = 8000;
  function tiles() { return document.querySelectorAll("#camera-wall .cam-tile"); }
  function paintCameras() {
    var ts = tiles();
    for (var i = 0; i < ts.length; i++) {
      var id = ts[i].getAttribute("data-camera-id"), on = !!live.camStatus[id];
      ts[i].classList.toggle("cam-on", on);
      ts[i].classList.toggle("cam-off", !on);
    }
  }
  function cycle() {
    var ts = tiles(), pages = 0;
    for (var i = 0; i < ts.length; i++) { pages = Math.max(pages, Number(ts[i].getAttribute("data-page")) + 1); }
    var label = document.querySelector(".cam-page-label");
    if (pages === 0) { if (label) { label.textContent = ""; } return; }  // nothing streamed here: no page count
    if (document.querySelector("#camera-wall .cam-big")) { cam.pageAt = Date.now(); }  // enlarged: hold the page
    else if (Date.now() - cam.pageAt > PAGE_MS) { cam.page = (cam.page + 1) % pages; cam.pageAt = Date.now(); }
    if (cam.page >= pages) { cam.page = 0; }
    if (label) { label.textContent = pages > 1 ? (cam.page + 1) + "/" + pages : ""; }
    for (var j = 0; j < ts.length; j++) {
      var shown = Number(ts[j].getAttribute("data-page")) === cam.page;
      ts[j].classList.toggle("cam-hidden", !shown);
      if (shown && ts[j].classList.contains("cam-on")) { refreshFrame(ts[j]); }
    }
  }
  /* Latest frame of one tile: one request per tile at a time; the previous object URL is revoked. */
  function refreshFrame(tile) {
    var id = tile.getAttribute("data-camera-id");
    if (cam.inflight[id]) { return; }
    cam.inflight[id] = true;
    fetch("/api/cameras/" + encodeURIComponent(id) + "/snapshot.jpg?missing=204", {credentials: "same-origin",
                                                                                   cache: "no-store"})
      .then(function (r) { return r.status === 200 ? r.blob() : null; })
      .then(function (blob) {
        if (!blob) { return; }
        var img = tile.querySelector(".cam-img");
        if (!img || !document.body.contains(img)) { return; }
        var url = URL.createObjectURL(blob);
        if (cam.urls[id]) { URL.revokeObjectURL(cam.urls[id]); }
        cam.urls[id] = url;
        img.src = url;
        tile.classList.add("cam-live");
      })
      .catch(function () { /* the next second tries again */ })
      .then(function () { cam.inflight[id] = false; });
  }
  /* Enlarge a tile on click (again: back); the page does not cycle away while one is enlarged. */
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest && ev.target.closest("#camera-wall .cam-tile");
    if (t) { t.classList.toggle("cam-big"); }
  });

  setInterval(function () { tickAges(); cycle(); }, 1000);
})();
