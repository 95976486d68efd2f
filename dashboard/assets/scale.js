/* Fits the fixed 1920x1080 wall canvas (#wall-canvas) to the window: one uniform scale, letterboxed and
 * centred, so a 1920x1080 wall shows it 1:1, a 3840x2160 wall at 2x, and no size ever needs scrollbars.
 * Runs on resize and whenever Dash re-renders (the canvas appears after the router callback). */
(function () {
  "use strict";
  var W = 1920, H = 1080;

  function fit() {
    var canvas = document.getElementById("wall-canvas");
    var root = document.documentElement;
    if (!canvas) {
      root.classList.remove("wall-mode");
      return;
    }
    root.classList.add("wall-mode");
    var vw = window.innerWidth, vh = window.innerHeight;
    var s = Math.min(vw / W, vh / H);
    var x = Math.max(0, (vw - W * s) / 2), y = Math.max(0, (vh - H * s) / 2);
    var t = "translate(" + x.toFixed(2) + "px," + y.toFixed(2) + "px) scale(" + s.toFixed(5) + ")";
    if (canvas.style.transform !== t) {
      canvas.style.transform = t;
    }
  }

  window.addEventListener("resize", fit);
  new MutationObserver(fit).observe(document.body, {childList: true, subtree: true});
  fit();
})();
