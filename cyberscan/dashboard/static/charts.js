// ES module: small SVG charts for the dashboard: a line, stacked bars and horizontal bars.
// No library and no markup parsing: every label is set with textContent, so a username full
// of markup is drawn as text.
var NS = "http://www.w3.org/2000/svg";
var H = 240;
var M = { top: 14, right: 14, bottom: 34, left: 50 };

function svgEl(tag, attrs, text) {
  var node = document.createElementNS(NS, tag);
  Object.keys(attrs || {}).forEach(function (key) {
    node.setAttribute(key, String(attrs[key]));
  });
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function htmlEl(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function niceStep(raw) {
  if (!(raw > 0)) return 1;
  var exp = Math.pow(10, Math.floor(Math.log10(raw)));
  var f = raw / exp;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * exp;
}

// Ticks from 0 to a round maximum; integer data never gets fractional ticks.
function scale(max, integer, count) {
  var step = niceStep((max || 0) / (count || 4));
  if (integer) step = Math.max(1, Math.ceil(step));
  var top = Math.max(step, Math.ceil((max || 0) / step) * step);
  var ticks = [];
  for (var v = 0; v <= top + step / 2; v += step) ticks.push(v);
  return { top: top, ticks: ticks };
}

function hourLabel(date, long) {
  var hh = String(date.getHours()).padStart(2, "0") + ":00";
  if (!long) return hh;
  return date.toLocaleDateString(undefined, { weekday: "short" }) + " " + hh;
}

function frame(container, options) {
  container.replaceChildren();
  var caption = htmlEl("figcaption", "chart-caption");
  caption.appendChild(htmlEl("span", "chart-title", options.title));
  if (options.subtitle) caption.appendChild(htmlEl("span", "chart-subtitle", options.subtitle));
  container.appendChild(caption);
  if (options.legend) {
    var legend = htmlEl("div", "chart-legend");
    options.legend.forEach(function (item) {
      var entry = htmlEl("span", "legend-item");
      var swatch = htmlEl("span", "legend-swatch " + item.className);
      entry.appendChild(swatch);
      entry.appendChild(document.createTextNode(item.name));
      legend.appendChild(entry);
    });
    container.appendChild(legend);
  }
  var height = options.height || H;
  // Drawn at the container's real width, so text is never scaled down to unreadable.
  var width = Math.max(280, Math.round(container.clientWidth || 560));
  var svg = svgEl("svg", {
    viewBox: "0 0 " + width + " " + height,
    width: width,
    height: height,
    class: "chart-svg",
    role: "img",
    "aria-label": options.title,
  });
  container.appendChild(svg);
  return { svg: svg, height: height, width: width };
}

function empty(f, text) {
  f.svg.appendChild(
    svgEl("text", { x: f.width / 2, y: f.height / 2, class: "chart-empty", "text-anchor": "middle" }, text)
  );
}

function yAxis(f, ticks, top, format) {
  var svg = f.svg;
  var height = f.height;
  var W = f.width;
  var plotH = height - M.top - M.bottom;
  ticks.forEach(function (value) {
    var y = M.top + plotH - (value / top) * plotH;
    svg.appendChild(
      svgEl("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: value === 0 ? "axis" : "grid" })
    );
    svg.appendChild(
      svgEl("text", { x: M.left - 8, y: y + 4, class: "tick", "text-anchor": "end" }, format(value))
    );
  });
}

function xLabels(f, dates, xOf) {
  var long = dates.length > 24;
  var room = Math.max(2, Math.floor((f.width - M.left - M.right) / (long ? 80 : 48)));
  var every = Math.max(1, Math.ceil(dates.length / room));
  dates.forEach(function (date, i) {
    if ((dates.length - 1 - i) % every !== 0) return;
    f.svg.appendChild(
      svgEl(
        "text",
        { x: xOf(i), y: f.height - M.bottom + 18, class: "tick", "text-anchor": "middle" },
        hourLabel(date, long)
      )
    );
  });
}

export function percent(value) {
  var pct = value * 100;
  return (pct >= 10 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)) + "%";
}

// options: {title, subtitle, points: [{date, value, detail}], emptyText}
// A null value (an hour with nothing to measure) leaves a gap instead of a fake 0%.
export function line(container, options) {
  var f = frame(container, options);
  var points = options.points || [];
  var known = points.filter(function (p) { return p.value !== null && p.value !== undefined; });
  if (!known.length) return empty(f, options.emptyText || "No data yet");
  var max = Math.max.apply(null, known.map(function (p) { return p.value; }));
  var s = scale(Math.min(1, max * 1.15) || 0.1, false, 4);
  var plotW = f.width - M.left - M.right;
  var plotH = f.height - M.top - M.bottom;
  function xOf(i) {
    return M.left + (points.length === 1 ? plotW / 2 : (i / (points.length - 1)) * plotW);
  }
  function yOf(v) {
    return M.top + plotH - (v / s.top) * plotH;
  }
  yAxis(f, s.ticks, s.top, percent);
  xLabels(f, points.map(function (p) { return p.date; }), xOf);
  var segments = [];
  var current = null;
  points.forEach(function (p, i) {
    if (p.value === null || p.value === undefined) {
      current = null;
      return;
    }
    if (!current) segments.push((current = []));
    current.push([xOf(i), yOf(p.value)]);
  });
  var base = yOf(0).toFixed(1);
  segments.forEach(function (seg) {
    var d = seg.map(function (xy, i) {
      return (i ? "L" : "M") + xy[0].toFixed(1) + " " + xy[1].toFixed(1);
    }).join(" ");
    var first = seg[0][0].toFixed(1);
    var last = seg[seg.length - 1][0].toFixed(1);
    f.svg.appendChild(svgEl("path", { d: d + " L" + last + " " + base + " L" + first + " " + base + " Z", class: "line-area" }));
    f.svg.appendChild(svgEl("path", { d: d, class: "line-path" }));
  });
  points.forEach(function (p, i) {
    if (p.value === null || p.value === undefined) return;
    var dot = svgEl("circle", { cx: xOf(i), cy: yOf(p.value), r: 3.5, class: "line-dot" });
    dot.appendChild(svgEl("title", {}, hourLabel(p.date, true) + ": " + percent(p.value) + (p.detail ? " (" + p.detail + ")" : "")));
    f.svg.appendChild(dot);
  });
}

// options: {title, subtitle, dates: [Date], series: [{name, className, values}], emptyText}
export function stackedBars(container, options) {
  var f = frame(container, {
    title: options.title,
    subtitle: options.subtitle,
    legend: options.series,
  });
  var dates = options.dates || [];
  if (!dates.length) return empty(f, options.emptyText || "No data yet");
  var totals = dates.map(function (_, i) {
    return options.series.reduce(function (sum, s) { return sum + (s.values[i] || 0); }, 0);
  });
  var s = scale(Math.max.apply(null, totals), true, 4);
  var plotW = f.width - M.left - M.right;
  var plotH = f.height - M.top - M.bottom;
  var slot = plotW / dates.length;
  var bar = Math.max(2, slot * 0.7);
  function xOf(i) {
    return M.left + slot * i + slot / 2;
  }
  yAxis(f, s.ticks, s.top, function (v) { return String(v); });
  xLabels(f, dates, xOf);
  dates.forEach(function (date, i) {
    var y = M.top + plotH;
    var group = svgEl("g", { class: "bar-group" });
    options.series.forEach(function (series) {
      var value = series.values[i] || 0;
      if (!value) return;
      var h = (value / s.top) * plotH;
      y -= h;
      group.appendChild(
        svgEl("rect", { x: xOf(i) - bar / 2, y: y, width: bar, height: h, rx: Math.min(2, bar / 4), class: series.className })
      );
    });
    var tip = options.series.map(function (series) { return series.name + " " + (series.values[i] || 0); });
    group.appendChild(svgEl("title", {}, hourLabel(date, true) + ": " + tip.join(", ")));
    // an invisible full-height target so thin bars still show their tooltip
    group.appendChild(svgEl("rect", { x: xOf(i) - slot / 2, y: M.top, width: slot, height: plotH, class: "hit" }));
    f.svg.appendChild(group);
  });
}

// options: {title, subtitle, items: [{label, value, note or text, className}], emptyText}
export function hbars(container, options) {
  var items = options.items || [];
  var rowH = 30;
  var height = Math.max(120, M.top + items.length * rowH + 30);
  var f = frame(container, { title: options.title, subtitle: options.subtitle, legend: options.legend, height: height });
  if (!items.length) return empty(f, options.emptyText || "No data yet");
  var left = Math.min(130, Math.round(f.width * 0.3));
  var right = items.some(function (it) { return it.text; }) ? Math.min(190, Math.round(f.width * 0.4)) : 80;
  var max = Math.max.apply(null, items.map(function (it) { return it.value; }));
  var s = scale(max, true, 4);
  var plotW = f.width - left - right;
  s.ticks.forEach(function (v) {
    var x = left + (v / s.top) * plotW;
    f.svg.appendChild(svgEl("line", { x1: x, x2: x, y1: M.top - 4, y2: f.height - 24, class: v === 0 ? "axis" : "grid" }));
    f.svg.appendChild(svgEl("text", { x: x, y: f.height - 8, class: "tick", "text-anchor": "middle" }, v));
  });
  items.forEach(function (item, i) {
    var y = M.top + i * rowH;
    var w = Math.max(2, (item.value / s.top) * plotW);
    var fits = Math.max(6, Math.floor((left - 12) / 7.5));
    var label = item.label.length > fits ? item.label.slice(0, fits - 1) + "…" : item.label;
    f.svg.appendChild(svgEl("text", { x: left - 10, y: y + rowH / 2 + 4, class: "bar-label", "text-anchor": "end" }, label));
    var rect = svgEl("rect", { x: left, y: y + 5, width: w, height: rowH - 10, rx: 3, class: item.className || "bar-main" });
    // `text`, when given, is the whole value label ("7 flagged · 2 strikes").
    var said = item.text || item.value + (item.note ? " · " + item.note : "");
    rect.appendChild(svgEl("title", {}, item.label + ": " + said));
    f.svg.appendChild(rect);
    f.svg.appendChild(svgEl("text", { x: left + w + 6, y: y + rowH / 2 + 4, class: "bar-value" }, said));
  });
}
