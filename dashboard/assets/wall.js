/* Browser-side helpers of the wall: the clientside clock callback and the Leaflet style/label functions
 * that dash-leaflet resolves by name ({"variable": "onescreen.map.label"}). Loaded before the Dash
 * renderer starts, so both namespaces exist when the first layout renders. */
(function () {
  "use strict";
  var formatters = {};

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
      /* Live clock in the configured timezone (Asia/Shanghai by default), whatever the kiosk's own zone. */
      clock: function (_n, cfg) {
        var c = cfg || {};
        var tz = c.tz || "Asia/Shanghai", locale = c.locale || "zh-CN";
        var now = new Date();
        return [fmt(locale, tz, "time").format(now), fmt(locale, tz, "date").format(now)];
      }
    }
  });

  window.onescreen = window.onescreen || {};
  window.onescreen.map = {
    /* Permanent name label in the middle of a district outline. */
    label: function (feature, layer) {
      var p = feature.properties || {};
      if (p.name) {
        layer.bindTooltip(p.name, {permanent: true, direction: "center", className: "os-map-label",
                                   interactive: false, opacity: 1});
      }
    },
    /* Highlight of the polygon under the pointer. */
    hover: function () {
      return {weight: 2, color: "#ffd166", fillOpacity: 0.7};
    }
  };
})();
