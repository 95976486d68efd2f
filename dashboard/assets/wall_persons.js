/* The wall's key-person layer (issue 15): community fill by the highest key-person level (hideout.levels),
 * and its toggle (the layer is hidden until pressed, so it never hides the alert colours by surprise). */
(function () {
  "use strict";
  window.onescreen = window.onescreen || {};
  var LEVEL = {red: "#ff4d4f", orange: "#ff9f1a", yellow: "#ffd84d", green: "#2fbf71"};
  window.onescreen.persons = {
    area: function (feature, context) {
      var h = (context && context.hideout) || {};
      var p = feature.properties || {}, lv = (h.levels || {})[p.id || feature.id];
      return {className: "os-persons os-persons-" + (lv || "none"), color: lv ? LEVEL[lv] : "#2a86c2",
              weight: lv ? 2 : 0.5, opacity: 0.9, fillColor: lv ? LEVEL[lv] : "#0d3a5c",
              fillOpacity: lv ? 0.55 : 0.1};
    }
  };
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest(".persons-toggle");
    if (!b) { return; }
    var frame = document.getElementById("city-map-frame");
    var on = b.classList.toggle("on");
    if (frame) { frame.classList.toggle("show-persons", on); }
  });
})();
