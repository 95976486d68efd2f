/* /cases: the dispatcher's desk — queue (overdue, red, orange, yellow, newest), detail, every action, huddle. */
"use strict";
(function () {
  var root = document.getElementById("desk-app"), params = new URLSearchParams(location.search);
  var queue = el("ul", {"class": "case-list", id: "cases-queue"}), detail = el("div", {"class": "case-detail", id: "cases-detail"});
  var filter = {open: "true"}, current = null;
  var filters = el("div", {"class": "chips", id: "cases-filters"});
  [["open", T("filter.open")], ["overdue", T("overdue")], ["red", T("lv.red")], ["all", T("filter.all")]].forEach(function (f) {
    filters.appendChild(el("button", {type: "button", "class": "chip-btn" + (f[0] === "open" ? " on" : ""), text: f[1], onclick: function (ev) {
      filter = f[0] === "open" ? {open: "true"} : f[0] === "overdue" ? {overdue: "true"} : f[0] === "red" ? {open: "true", level: "red"} : {};
      Array.prototype.forEach.call(filters.children, function (b) { b.classList.toggle("on", b === ev.target); });
      load();
    }}));
  });
  function name(id) { return CASES.names[id] || CASES.cells[id] || id || ""; }
  function row(doc) {
    return el("li", {"class": "case-item" + (doc.overdue ? " overdue" : "") + (current === doc.case_id ? " on" : ""),
                     "data-case-id": doc.case_id, onclick: function () { open(doc.case_id); }}, [
      levelChip(doc), doc.overdue ? el("span", {"class": "chip overdue", text: T("overdue")}) : null,
      el("span", {"class": "case-cat", text: T("cat." + doc.category)}), el("span", {"class": "case-status", text: T("st." + doc.status)}),
      el("div", {"class": "case-desc", text: doc.description}),
      el("div", {"class": "case-meta", text: doc.case_id + " · " + name(doc.location.community_id) + " · " + when(doc.reported_at)})]);
  }
  function load() {
    var q = new URLSearchParams(Object.assign({limit: 200}, filter));
    return api("GET", "/api/cases?" + q).then(function (docs) {
      queue.innerHTML = "";
      if (!docs.length) { queue.appendChild(el("li", {"class": "case-none", text: T("none")})); }
      docs.forEach(function (d) { queue.appendChild(row(d)); });
    });
  }
  function fact(k, v) { return v ? [el("dt", {text: k}), el("dd", {text: v})] : []; }
  var seq = 0;
  function open(cid) {
    current = cid;
    var mine = ++seq;  // a slower, older answer must not replace a newer detail (or a form being filled)
    Array.prototype.forEach.call(queue.children, function (li) { li.classList.toggle("on", li.getAttribute("data-case-id") === cid); });
    return Promise.all([api("GET", "/api/cases/" + cid), api("GET", "/api/cases/" + cid + "/duplicates").catch(function () { return []; })])
      .then(function (r) { if (mine === seq) { show(r[0], r[1]); } },
            function (e) { if (mine === seq) { detail.textContent = e.message; } });
  }
  function show(doc, dups) {
    detail.innerHTML = "";
    detail.setAttribute("data-case-id", doc.case_id);
    var who = doc.assignee ? T("kind." + doc.assignee.kind) + " " + (doc.assignee.kind === "department"
      ? (CASES.departments.filter(function (d) { return d.id === doc.assignee.id; })[0] || {name: doc.assignee.id}).name : name(doc.assignee.id)) : "";
    detail.appendChild(el("div", {"class": "detail-title"}, [levelChip(doc), el("span", {"class": "case-cat", text: T("cat." + doc.category)}),
      el("span", {"class": "case-status", id: "case-status", text: T("st." + doc.status)}),
      doc.overdue ? el("span", {"class": "chip overdue", text: T("overdue")}) : null, el("span", {"class": "case-id", text: doc.case_id})]));
    detail.appendChild(el("p", {"class": "detail-desc", text: doc.description}));
    var dl = el("dl", {"class": "facts"});
    [].concat(fact(T("place"), [doc.place.district, doc.place.community, doc.place.cell].filter(Boolean).join(" / ")),
      fact(T("source"), T("src." + doc.source) + (doc.alert_id ? " " + doc.alert_id : "")),
      fact(T("reporter"), doc.place.reporters.map(function (r) {
        return r.name === r.id ? r.id : r.name + " (" + r.id + (r.phone ? " " + r.phone : "") + ")"; }).join(T("sep"))
        + (doc.outside_own_cells ? " · " + T("outside") : "")),
      fact(T("reported"), when(doc.reported_at)), fact(T("deadline"), when(doc.deadline)),
      fact(T("handling_level"), T("hl." + doc.handling_level)), fact(T("assignee"), who),
      fact(T("feedback"), doc.feedback), fact(T("satisfaction"), doc.evaluation ? doc.evaluation.satisfaction + "/5" : ""),
      fact("", doc.reminders ? T("reminders", {n: doc.reminders}) : "")).forEach(function (x) { dl.appendChild(x); });
    var top = el("div", {"class": "detail-top"}, [dl, el("div", {"class": "detail-map"}, [
      doc.place.geometry ? cellMap([{geometry: doc.place.geometry}], doc.location.lat ? doc.location : null) : null])]);
    detail.appendChild(top);
    detail.appendChild(actions(doc));
    if (dups.length && doc.status !== "archived") {
      detail.appendChild(el("h3", {text: T("duplicates")}));
      dups.forEach(function (d) {
        detail.appendChild(el("div", {"class": "dup"}, [levelChip(d), " " + d.case_id + " " + d.description + " ",
          el("button", {type: "button", "class": "btn", "data-merge": d.case_id, text: T("merge_into", {case_id: d.case_id}), onclick: function () {
            run(doc.case_id, "merge", {into: d.case_id});
          }})]));
      });
    }
    detail.appendChild(el("h3", {text: T("photos_title")}));
    var ph = el("div", {"class": "photos"});
    doc.photo_list.forEach(function (p) {
      ph.appendChild(el("a", {href: p.url, target: "_blank", "class": "photo " + p.kind}, [el("img", {src: p.thumb, alt: p.kind}),
        el("span", {text: p.kind === "camera" ? T("camera_frame", {camera: p.camera_id}) : T("act." + (p.kind === "feedback" ? "handle" : "report"))})]));
    });
    if (!doc.photo_list.length) { ph.appendChild(el("span", {"class": "case-none", text: T("none")})); }
    detail.appendChild(ph);
    detail.appendChild(el("h3", {text: T("history")}));
    var ol = el("ol", {"class": "history", id: "case-history"});
    doc.history.forEach(function (h) {
      ol.appendChild(el("li", {"data-action": h.action}, [el("span", {"class": "h-at", text: when(h.at)}),
        el("span", {"class": "h-act", text: T("act." + h.action)}), el("span", {"class": "h-who", text: h.actor}),
        el("span", {"class": "h-note", text: h.action === "remind" ? "→ " + (h.detail.to || []).map(function (x) {
          var p = x.split(":"); return T("hl." + p[0]) !== "hl." + p[0] ? T("hl." + p[0]) + " " + name(p[1] || "")
            : T("kind." + p[0]) + " " + (p[1] || ""); }).join(T("sep")) : (h.note || "")})]));
    });
    detail.appendChild(ol);
  }
  function actions(doc) {
    var box = el("div", {"class": "actions", id: "case-actions"}), form = el("div", {"class": "action-form", id: "case-action-form"});
    var msg = el("div", {"class": "action-msg", id: "case-action-msg", role: "status"});
    CASES.role_actions.forEach(function (a) {
      if (a === "merge" || (CASES.actions[a] || []).indexOf(doc.status) < 0) { return; }
      box.appendChild(el("button", {type: "button", "class": "btn act-" + a, "data-action": a, text: T("act." + a), onclick: function () { ask(doc, a, form, msg); }}));
    });
    if (doc.status !== "archived") {
      var up = el("input", {type: "file", accept: "image/*", id: "case-photo-input", "class": "hidden", onchange: function () {
        var f = up.files[0]; if (!f) { return; }
        api("POST", "/api/cases/" + doc.case_id + "/photos", f, f.type || "image/jpeg").then(function () { open(doc.case_id); },
          function (e) { msg.className = "action-msg error"; msg.textContent = e.message; });
      }});
      box.appendChild(up);
      box.appendChild(el("button", {type: "button", "class": "btn", id: "case-photo", text: T("feedback_photo"), onclick: function () { up.click(); }}));
    }
    return el("div", {}, [box, form, msg]);
  }
  function select(id, options) {
    var s = el("select", {id: id});
    options.forEach(function (o) { s.appendChild(el("option", {value: o[0], text: o[1]})); });
    return s;
  }
  function ask(doc, a, form, msg) {
    form.innerHTML = ""; msg.textContent = "";
    var inputs = {}, note = el("input", {type: "text", id: "case-note", placeholder: T("note")});
    if (a === "accept" || a === "grade") {
      inputs.level = select("case-level", ["red", "orange", "yellow"].map(function (l) { return [l, T("lv." + l)]; }));
      inputs.level.value = doc.level; form.appendChild(inputs.level);
    }
    if (a === "assign") {
      var kind = select("case-assign-kind", ["department", "community", "unit"].map(function (k) { return [k, T("kind." + k)]; }));
      var target = el("select", {id: "case-assign-id"});
      var fillTargets = function () {
        target.innerHTML = "";
        var opts = kind.value === "department" ? CASES.departments.map(function (d) { return [d.id, d.name]; })
          : kind.value === "community" ? CASES.communities.map(function (c) { return [c.id, c.name]; })
          : CASES.units.map(function (u) { return [u, u]; });
        opts.forEach(function (o) { target.appendChild(el("option", {value: o[0], text: o[1]})); });
      };
      kind.addEventListener("change", fillTargets); fillTargets();
      inputs.assignee = function () { return {kind: kind.value, id: target.value}; };
      form.appendChild(kind); form.appendChild(target);
    }
    if (a === "evaluate") {
      inputs.satisfaction = select("case-satisfaction", [5, 4, 3, 2, 1].map(function (n) { return [n, n + " / 5"]; }));
      form.appendChild(inputs.satisfaction);
    }
    if (a === "handle") { note.placeholder = T("feedback"); }
    form.appendChild(note);
    form.appendChild(el("button", {type: "button", "class": "btn primary", id: "case-do", text: T("do"), onclick: function () {
      var body = {note: note.value};
      if (inputs.level) { body.level = inputs.level.value; }
      if (inputs.assignee) { body.assignee = inputs.assignee(); }
      if (inputs.satisfaction) { body.satisfaction = +inputs.satisfaction.value; }
      run(doc.case_id, a, body, msg);
    }}));
    form.appendChild(el("button", {type: "button", "class": "btn", text: T("cancel"), onclick: function () { form.innerHTML = ""; }}));
  }
  function run(cid, a, body, msg) {
    return api("POST", "/api/cases/" + cid + "/" + a, body).then(function (doc) { load(); open(doc.case_id); },
      function (e) { var m = msg || document.getElementById("case-action-msg"); m.className = "action-msg error"; m.textContent = e.message; });
  }

  // hotline intake, and an alert turned into a case (?from_alert=A-…)
  function intake() {
    var cat = select("intake-category", CASES.categories.map(function (c) { return [c, T("cat." + c)]; }));
    var lv = select("intake-level", ["yellow", "orange", "red"].map(function (l) { return [l, T("lv." + l)]; }));
    var cells = Object.keys(CASES.cells).sort();
    var cell = select("intake-cell", cells.map(function (c) { return [c, CASES.cells[c] + " " + c]; }));
    var d = el("input", {type: "text", id: "intake-description", placeholder: T("description")});
    var msg = el("div", {"class": "action-msg", id: "intake-msg"}), alertId = params.get("from_alert");
    var body = {};
    if (alertId) {
      api("GET", "/api/alerts/" + encodeURIComponent(alertId)).then(function (a) {
        if (a.location && a.location.cell_id) { cell.value = a.location.cell_id; }
        if (a.location && a.location.lat) { body.lat = a.location.lat; body.lon = a.location.lon; }
        d.value = a.rule + " " + alertId;
      }).catch(function () {});
    }
    var go = el("button", {type: "button", "class": "btn primary", id: "intake-submit", text: T("act.report"), onclick: function () {
      var b = Object.assign({category: cat.value, level: lv.value, description: d.value}, body);
      if (!b.lat) { b.cell_id = cell.value; }
      if (alertId) { b.alert_id = alertId; }
      api("POST", "/api/cases", b).then(function (doc) { msg.textContent = T("sent", {case_id: doc.case_id}); load(); open(doc.case_id); },
        function (e) { msg.className = "action-msg error"; msg.textContent = e.message; });
    }});
    return el("details", {"class": "intake", open: alertId ? "open" : null}, [
      el("summary", {text: alertId ? T("from_alert", {alert_id: alertId}) : T("hotline")}), cat, lv, cell, d, go, msg]);
  }

  function huddle() {
    api("GET", "/api/cases?limit=500").then(function (docs) {
      var since = new Date(); since.setDate(since.getDate() - 1); since.setHours(0, 0, 0, 0);
      var parts = [["huddle.overdue", docs.filter(function (d) { return d.overdue; })],
        ["huddle.red", docs.filter(function (d) { return d.level === "red" && ["handled", "evaluated", "archived"].indexOf(d.status) < 0; })],
        ["huddle.new", docs.filter(function (d) { return new Date(d.reported_at) >= since && !d.merged_into; })]];
      root.innerHTML = "";
      root.className = "cases-main huddle-view";
      document.title = T("title.huddle");
      root.appendChild(el("div", {"class": "huddle-bar"}, [el("h2", {text: T("huddle")}),
        el("button", {type: "button", "class": "btn", text: T("print"), onclick: function () { window.print(); }}),
        el("a", {"class": "btn", href: "/api/cases-huddle.csv", text: T("csv")}), el("a", {"class": "btn", href: "/cases", text: T("back")})]));
      parts.forEach(function (p) {
        var t = el("table", {"class": "huddle"}, [el("tr", {}, [T("level_short"), "ID", T("category"), T("place"), T("deadline"), T("description")].map(function (h) { return el("th", {text: h}); }))]);
        p[1].forEach(function (d) {
          t.appendChild(el("tr", {"data-case-id": d.case_id}, [el("td", {}, [levelChip(d)]), el("td", {text: d.case_id}), el("td", {text: T("cat." + d.category)}),
            el("td", {text: name(d.location.community_id)}), el("td", {text: when(d.deadline)}), el("td", {text: d.description})]));
        });
        root.appendChild(el("section", {"class": "huddle-part"}, [el("h3", {text: T(p[0]) + " (" + p[1].length + ")"}), t]));
      });
    });
  }

  if (params.get("view") === "huddle") { huddle(); return; }
  var side = el("aside", {"class": "queue-side"}, [el("div", {"class": "queue-bar"}, [el("h2", {text: T("queue")}),
    el("a", {"class": "btn", href: "/cases?view=huddle", id: "cases-huddle-link", text: T("huddle")})]), filters,
    CASES.role_actions.indexOf("accept") >= 0 ? intake() : null, queue]);
  detail.appendChild(el("div", {"class": "case-none", text: T("pick")}));
  root.appendChild(side); root.appendChild(detail);
  load().then(function () { if (params.get("case")) { open(params.get("case")); } });
  setInterval(function () { load(); }, 15000);
})();
