/* The wall's cases layer (issue #14): one circle per open case, coloured by level, ringed when overdue. */
window.onescreen = window.onescreen || {};
window.onescreen.cases = {
  point: function (feature, latlng) {
    var p = feature.properties || {};
    var fill = {red: "#ff4d4f", orange: "#ff9c33", yellow: "#ffd84d", green: "#3ddc84"}[p.level] || "#ffd84d";
    var m = L.circleMarker(latlng, {radius: 7, color: p.overdue ? "#e07bff" : "#02101f", weight: p.overdue ? 3 : 1.5,
                                    fillColor: fill, fillOpacity: 0.95, pane: "os-markers",
                                    className: "os-marker os-marker-cases" + (p.overdue ? " os-marker-overdue" : "")});
    m.bindTooltip(p.id, {className: "os-tip"});
    return m;
  }
};
