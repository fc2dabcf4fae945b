// Trailhouse charts: a tiny SVG renderer for bar and line charts, no dependencies.
// Each <script type="application/json" class="chart-data"> holds {kind, title, label, x, y, links}
// and is drawn into the .chart element just before it. Bars and points link to their events.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function wrapLink(parent, href) {
    if (!href) return parent;
    var a = el("a", { href: href }, parent);
    a.setAttributeNS("http://www.w3.org/1999/xlink", "href", href);
    return a;
  }

  function fmt(v) {
    if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (Math.abs(v) >= 1e3) return (v / 1e3).toFixed(1) + "k";
    return String(Math.round(v * 100) / 100);
  }

  function title(parent, text) { el("title", {}, parent).textContent = text; }

  function bars(svg, d) {
    var rowH = 22, left = 250, width = 700, max = Math.max.apply(null, d.y.concat([1]));
    svg.setAttribute("viewBox", "0 0 " + width + " " + (d.x.length * rowH + 10));
    d.x.forEach(function (label, i) {
      var y = i * rowH + 4, w = Math.max(1, (width - left - 60) * d.y[i] / max);
      var g = wrapLink(svg, d.links && d.links[i]);
      var text = el("text", { x: left - 6, y: y + 14, "text-anchor": "end", "class": "axis" }, g);
      text.textContent = label.length > 40 ? "…" + label.slice(-39) : label;
      var r = el("rect", { x: left, y: y, width: w, height: rowH - 6, "class": "bar", "data-value": d.y[i] }, g);
      title(r, label + ": " + d.y[i]);
      el("text", { x: left + w + 4, y: y + 13, "class": "axis" }, g).textContent = fmt(d.y[i]);
    });
  }

  function line(svg, d) {
    var width = 640, height = 220, pad = 36, n = d.x.length, max = Math.max.apply(null, d.y.concat([1]));
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    function px(i) { return pad + (n === 1 ? (width - 2 * pad) / 2 : i * (width - 2 * pad) / (n - 1)); }
    function py(v) { return height - pad - v * (height - 2 * pad) / max; }
    el("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, stroke: "#ccd" }, svg);
    el("text", { x: 2, y: pad - 6, "class": "axis" }, svg).textContent = fmt(max) + " " + d.label;
    var points = d.y.map(function (v, i) { return px(i) + "," + py(v); }).join(" ");
    el("polyline", { points: points, "class": "line" }, svg);
    d.y.forEach(function (v, i) {
      var g = wrapLink(svg, d.links && d.links[i]);
      var c = el("circle", { cx: px(i), cy: py(v), r: 4, "class": "point", "data-value": v }, g);
      title(c, d.x[i] + ": " + v);
    });
    var step = Math.max(1, Math.ceil(n / 6));
    d.x.forEach(function (label, i) {
      if (i % step === 0 || i === n - 1) {
        el("text", { x: px(i), y: height - pad + 16, "text-anchor": "middle", "class": "axis" }, svg).textContent = label;
      }
    });
  }

  function render(script) {
    var d = JSON.parse(script.textContent), box = script.previousElementSibling;
    if (!box || !d.x || !d.x.length) return;
    var svg = el("svg", { role: "img", "aria-label": d.title, "data-kind": d.kind }, null);
    (d.kind === "line" ? line : bars)(svg, d);
    box.appendChild(svg);
  }

  window.trailhouseCharts = { render: render };
  document.querySelectorAll("script.chart-data").forEach(render);
})();
