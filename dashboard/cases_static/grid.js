/* /grid: a grid worker reports from the phone in under a minute; sees its reports and its cells' open cases. */
"use strict";
(function () {
  var root = document.getElementById("grid-app"), state = {point: null, files: [], level: "yellow", category: null};
  var status = el("div", {id: "grid-status", "class": "grid-status"});
  var formMsg = el("div", {id: "grid-message", "class": "grid-message", role: "status"});

  function section(title, kids) { return el("section", {"class": "grid-section"}, [el("h2", {text: title})].concat(kids)); }

  // category and suggested colour
  var catBox = el("div", {"class": "chips", id: "grid-category"});
  CASES.categories.forEach(function (c) {
    catBox.appendChild(el("button", {type: "button", "class": "chip-btn", "data-category": c, text: T("cat." + c), onclick: function () {
      state.category = c; setLevel(CASES.suggest[c] || "yellow");
      Array.prototype.forEach.call(catBox.children, function (b) { b.classList.toggle("on", b === this); }, this);
    }}));
  });
  var lvBox = el("div", {"class": "chips", id: "grid-level"});
  function setLevel(lv) {
    state.level = lv;
    Array.prototype.forEach.call(lvBox.children, function (b) { b.classList.toggle("on", b.getAttribute("data-level") === lv); });
  }
  ["red", "orange", "yellow"].forEach(function (lv) {
    lvBox.appendChild(el("button", {type: "button", "class": "chip-btn lv-" + lv, "data-level": lv, text: T("lv." + lv), onclick: function () { setLevel(lv); }}));
  });
  setLevel("yellow");
  var desc = el("textarea", {id: "grid-description", rows: 3, placeholder: T("description_hint")});

  // photos: the phone camera, downscaled in the browser before upload (slow links)
  var thumbs = el("div", {"class": "thumbs", id: "grid-thumbs"});
  var fileIn = el("input", {type: "file", id: "grid-photo", "class": "hidden", accept: "image/*", capture: "environment", multiple: "multiple", onchange: function () {
    Array.prototype.forEach.call(fileIn.files, function (f) {
      if (state.files.length >= CASES.max_photos) { return; }
      state.files.push(f);
      var img = el("img", {"class": "thumb"}); img.src = URL.createObjectURL(f); thumbs.appendChild(img);
    });
    fileIn.value = "";
  }});
  function shrink(file) {
    return new Promise(function (resolve) {
      var img = new Image();
      img.onload = function () {
        var side = 1280, s = Math.min(1, side / Math.max(img.width, img.height));
        var c = document.createElement("canvas"); c.width = Math.round(img.width * s); c.height = Math.round(img.height * s);
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        c.toBlob(function (b) { resolve(b || file); }, "image/jpeg", 0.8);
      };
      img.onerror = function () { resolve(file); };  // not decodable here: let the server say why
      img.src = URL.createObjectURL(file);
    });
  }

  // location: geolocation or a tap on the cell map
  var locText = el("div", {id: "grid-location", "class": "loc-text", text: T("no_location")});
  var mapBox = el("div", {"class": "map-box"});
  function drawMap() {
    mapBox.innerHTML = "";
    mapBox.appendChild(cellMap(CASES.cells, state.point, function (lat, lon) { setPoint(lat, lon, "map"); }));
  }
  function setPoint(lat, lon, how) {
    state.point = {lat: +lat.toFixed(6), lon: +lon.toFixed(6)};
    locText.textContent = T("located") + " " + state.point.lat.toFixed(5) + ", " + state.point.lon.toFixed(5);
    drawMap();
  }
  var locBtn = el("button", {type: "button", "class": "btn", id: "grid-locate", text: T("locate_me"), onclick: function () {
    if (!navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (p) { setPoint(p.coords.latitude, p.coords.longitude, "gps"); },
      function () { locText.textContent = T("tap_map"); }, {enableHighAccuracy: true, timeout: 8000});
  }});
  var onSite = el("input", {type: "checkbox", id: "grid-on-site"});
  var feedback = el("textarea", {id: "grid-feedback", rows: 2, placeholder: T("feedback"), "class": "hidden"});
  onSite.addEventListener("change", function () { feedback.classList.toggle("hidden", !onSite.checked); });
  var submit = el("button", {type: "button", "class": "btn primary", id: "grid-submit", text: T("submit"), onclick: send});

  function send() {
    if (!state.category) { formMsg.textContent = T("category"); return; }
    var body = {category: state.category, level: state.level, description: desc.value};
    if (state.point) { body.lat = state.point.lat; body.lon = state.point.lon; }
    if (onSite.checked) { body.handled_on_site = true; body.feedback = feedback.value; }
    submit.disabled = true; formMsg.className = "grid-message"; formMsg.textContent = T("sending");
    api("POST", "/api/cases", body).then(function (doc) {
      var files = state.files.slice(), failed = [];
      var chain = Promise.resolve();
      files.forEach(function (f, i) {
        chain = chain.then(function () { return shrink(f); }).then(function (blob) {
          return api("POST", "/api/cases/" + doc.case_id + "/photos", blob, "image/jpeg");
        }).catch(function (e) { failed.push(T("photo_failed", {n: i + 1, reason: e.message})); });
      });
      return chain.then(function () {
        formMsg.className = "grid-message ok" + (failed.length ? " warn" : "");
        formMsg.textContent = [T("sent", {case_id: doc.case_id})].concat(failed).join(T("sep"));
        formMsg.setAttribute("data-case-id", doc.case_id);
        desc.value = ""; feedback.value = ""; onSite.checked = false; feedback.classList.add("hidden");
        state.files = []; thumbs.innerHTML = ""; state.point = null; locText.textContent = T("no_location"); drawMap();
        refresh();
      });
    }).catch(function (e) { formMsg.className = "grid-message error"; formMsg.textContent = e.message; })
      .then(function () { submit.disabled = false; });
  }

  var mine = el("ul", {"class": "case-list", id: "grid-mine"}), cellsOpen = el("ul", {"class": "case-list", id: "grid-cells"});
  function item(doc) {
    return el("li", {"class": "case-item" + (doc.overdue ? " overdue" : ""), "data-case-id": doc.case_id}, [
      levelChip(doc), el("span", {"class": "case-cat", text: T("cat." + doc.category)}),
      el("span", {"class": "case-status", text: T("st." + doc.status)}),
      el("div", {"class": "case-desc", text: doc.description}),
      el("div", {"class": "case-meta", text: doc.case_id + " · " + when(doc.reported_at)})]);
  }
  function fill(list, docs) {
    list.innerHTML = "";
    if (!docs.length) { list.appendChild(el("li", {"class": "case-none", text: T("none")})); }
    docs.forEach(function (d) { list.appendChild(item(d)); });
  }
  function refresh() {
    api("GET", "/api/cases?limit=100").then(function (docs) {
      fill(mine, docs.filter(function (d) { return d.reporters.indexOf(CASES.worker) >= 0; }).slice(0, 20));
      var cellIds = CASES.cells.map(function (c) { return c.id; });
      fill(cellsOpen, docs.filter(function (d) { return d.status !== "archived" && cellIds.indexOf(d.location.cell_id) >= 0; }));
    }).catch(function () {});
  }
  function beat() {
    api("POST", "/api/grid/heartbeat", {}).then(function () { status.className = "grid-status on"; status.textContent = T("online"); },
      function () { status.className = "grid-status off"; status.textContent = T("offline"); });
  }

  root.appendChild(el("div", {"class": "grid-who"}, [el("strong", {text: CASES.worker_name}), " " + (CASES.worker || "") + " " + (CASES.phone || ""), status]));
  root.appendChild(section(T("new"), [
    el("label", {text: T("category")}), catBox, el("label", {text: T("level")}), lvBox,
    el("label", {"for": "grid-description", text: T("description")}), desc,
    el("label", {text: T("photos")}), fileIn,
    el("button", {type: "button", "class": "btn", id: "grid-photo-button", text: T("take_photo"), onclick: function () { fileIn.click(); }}), thumbs,
    el("label", {text: T("location")}), el("div", {"class": "row"}, [locBtn, locText]), el("div", {"class": "hint", text: T("tap_map")}), mapBox,
    el("label", {"class": "check"}, [onSite, " " + T("on_site")]), feedback, submit, formMsg]));
  root.appendChild(section(T("mine"), [mine]));
  root.appendChild(section(T("my_cells"), [cellsOpen]));

  // 我的重点人员: the key persons this worker answers for (the API lists only those for a grid account);
  // ids shown masked as on every screen; a visit recorded through POST /api/persons/{id}/visits
  var persons = el("ul", {"class": "case-list", id: "grid-persons"});
  var kpMsg = el("div", {id: "grid-kp-message", "class": "grid-message", role: "status"});
  function maskId(id) { return id.length > 4 ? id.slice(0, 4) + "****" : id.slice(0, 1) + "****"; }
  function visitForm(p, li) {
    var chosen = null, box = el("div", {"class": "chips kp-methods"});
    CASES.visit_methods.forEach(function (m) {
      box.appendChild(el("button", {type: "button", "class": "chip-btn", "data-method": m, text: T("kp.m." + m), onclick: function () {
        chosen = m; kpMsg.className = "grid-message"; kpMsg.textContent = "";
        Array.prototype.forEach.call(box.children, function (b) { b.classList.toggle("on", b.getAttribute("data-method") === m); });
      }}));
    });
    var note = el("textarea", {rows: 2, "class": "kp-note", placeholder: T("kp.note")});
    var save = el("button", {type: "button", "class": "btn primary kp-save", text: T("kp.save"), onclick: function () {
      if (!chosen) { kpMsg.className = "grid-message error"; kpMsg.textContent = T("kp.pick_method"); return; }
      save.disabled = true;
      api("POST", "/api/persons/" + encodeURIComponent(p.person_id) + "/visits", {method: chosen, note: note.value}).then(function () {
        kpMsg.className = "grid-message ok"; kpMsg.textContent = T("kp.saved", {id: maskId(p.person_id)}); loadPersons();
      }).catch(function (e) {
        kpMsg.className = "grid-message error"; kpMsg.textContent = CASES.texts["persons.err." + e.reason] || e.message; save.disabled = false;
      });
    }});
    var form = el("div", {"class": "kp-form"}, [el("label", {text: T("kp.method")}), box, note, el("div", {"class": "row"}, [save,
      el("button", {type: "button", "class": "btn", text: T("kp.cancel"), onclick: function () { li.removeChild(form); }})])]);
    return form;
  }
  function personItem(p) {
    var li = el("li", {"class": "case-item kp-item" + (p.visit_overdue ? " overdue" : ""), "data-masked-id": maskId(p.person_id)});
    var due = p.visit_overdue ? el("span", {"class": "chip overdue", text: T("kp.overdue")})
      : el("span", {"class": "kp-due", text: p.next_visit_due ? T("kp.due", {at: when(p.next_visit_due)}) : ""});
    var btn = el("button", {type: "button", "class": "btn kp-record", text: T("kp.record"), onclick: function () {
      if (!li.querySelector(".kp-form")) { li.appendChild(visitForm(p, li)); }
    }});
    [levelChip(p), el("strong", {"class": "kp-id", text: maskId(p.person_id)}), due,
     el("div", {"class": "case-meta", text: p.last_visit ? T("kp.last", {at: when(p.last_visit)}) : T("kp.never")}), btn
    ].forEach(function (k) { li.appendChild(k); });
    return li;
  }
  function loadPersons() {
    api("GET", "/api/persons").then(function (rows) {
      persons.innerHTML = "";
      var mine = rows.filter(function (p) { return p.grid_worker_id === CASES.worker; });
      if (!mine.length) { persons.appendChild(el("li", {"class": "case-none", text: T("kp.none")})); }
      mine.forEach(function (p) { persons.appendChild(personItem(p)); });
    }).catch(function (e) { kpMsg.className = "grid-message error"; kpMsg.textContent = e.message; });
  }
  root.appendChild(section(T("kp.title"), [persons, kpMsg]));
  drawMap(); refresh(); beat(); loadPersons();
  setInterval(beat, CASES.heartbeat_s * 1000); setInterval(refresh, 30000);
})();
