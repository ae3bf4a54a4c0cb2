// Small SVG chart helpers. Every label goes through textContent, so text
// from snapshots is never parsed as markup.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";

  function svgElement(name, attributes) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) {
      element.setAttribute(key, String(value));
    }
    return element;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function finiteValues(lines) {
    const values = [];
    for (const line of lines) {
      for (const value of line.values) {
        if (typeof value === "number" && Number.isFinite(value)) values.push(value);
      }
    }
    return values;
  }

  // Draws lines over equal time buckets: lines = [{name, cls, values}],
  // where a value may be null (no data in that bucket, a gap).
  function line(svg, lines, format) {
    clear(svg);
    const box = svg.viewBox.baseVal;
    const width = box.width;
    const height = box.height;
    const values = finiteValues(lines);
    const top = Math.max(0, ...values);
    if (values.length === 0 || top === 0) {
      svg.dataset.drawn = "empty";
      const note = svgElement("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" });
      note.textContent = values.length === 0 ? "no data in this window" : "all zero";
      svg.appendChild(note);
      return;
    }
    const scale = top * 1.1;
    for (const fraction of [0.25, 0.5, 0.75]) {
      const y = height * (1 - fraction);
      svg.appendChild(svgElement("line", { x1: 0, x2: width, y1: y, y2: y, class: "grid-line" }));
    }
    lines.forEach((series) => {
      const count = series.values.length;
      const step = count > 1 ? width / (count - 1) : width;
      let d = "";
      let pen = false;
      series.values.forEach((value, index) => {
        if (typeof value !== "number" || !Number.isFinite(value)) {
          pen = false;
          return;
        }
        const x = count > 1 ? index * step : width / 2;
        const y = height - (value / scale) * height;
        d += (pen ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1) + " ";
        pen = true;
      });
      const path = svgElement("path", { d: d.trim(), class: "series " + series.cls });
      path.dataset.series = series.name;
      const title = svgElement("title");
      title.textContent = series.name + ", max " + format(Math.max(...finiteValues([series]), 0));
      path.appendChild(title);
      svg.appendChild(path);
    });
    const label = svgElement("text", { x: 2, y: 11, class: "empty" });
    label.textContent = format(top);
    svg.appendChild(label);
    svg.dataset.drawn = "lines";
  }

  // Draws one horizontal bar per row: rows = [{label, value, text,
  // cls, key}]. Bars share one scale, the largest value.
  function bars(container, rows, options) {
    clear(container);
    const settings = options || {};
    if (rows.length === 0) {
      const empty = document.createElement("p");
      empty.className = "empty-note";
      empty.textContent = settings.empty || "nothing in this window";
      container.appendChild(empty);
      container.dataset.rows = "0";
      return;
    }
    const top = settings.max || Math.max(...rows.map((row) => row.value), 0) || 1;
    for (const row of rows) {
      const entry = document.createElement("div");
      entry.className = "row" + (row.over ? " over" : "");
      entry.dataset.key = row.key !== undefined ? row.key : row.label;
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = row.label;
      label.title = row.label;
      const svg = svgElement("svg", { viewBox: "0 0 100 12", preserveAspectRatio: "none" });
      svg.appendChild(svgElement("rect", { x: 0, y: 1, width: 100, height: 10, class: "track" }));
      const fraction = Math.max(0, Math.min(1, row.value / top));
      svg.appendChild(svgElement("rect", { x: 0, y: 1, width: (fraction * 100).toFixed(2), height: 10, class: "bar " + (row.cls || "s0") }));
      for (const marker of row.markers || []) {
        const x = (Math.max(0, Math.min(1, marker.value / top)) * 100).toFixed(2);
        svg.appendChild(svgElement("line", { x1: x, x2: x, y1: 0, y2: 12, class: marker.cls }));
      }
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = row.text;
      entry.append(label, svg, value);
      container.appendChild(entry);
    }
    container.dataset.rows = String(rows.length);
  }

  // Draws pairs of bars per label, such as a topic's baseline and current
  // share: rows = [{label, first, second, text}].
  function pairedBars(container, rows, classes) {
    const flat = [];
    for (const row of rows) {
      flat.push({ label: row.label, key: row.label + " (baseline)", value: row.first, text: row.firstText, cls: classes[0] });
      flat.push({ label: "", key: row.label + " (current)", value: row.second, text: row.secondText, cls: classes[1] });
    }
    bars(container, flat, { max: 1, empty: "no topics in the report" });
  }

  // Draws a single ratio from 0 to 1 as a filled track.
  function gauge(svg, ratio) {
    clear(svg);
    const box = svg.viewBox.baseVal;
    svg.appendChild(svgElement("rect", { x: 0, y: 0, width: box.width, height: box.height, class: "track" }));
    if (typeof ratio !== "number") {
      svg.dataset.drawn = "empty";
      return;
    }
    const width = Math.max(0, Math.min(1, ratio)) * box.width;
    svg.appendChild(svgElement("rect", { x: 0, y: 0, width: width.toFixed(1), height: box.height, class: "bar s2" }));
    svg.dataset.drawn = "gauge";
  }

  window.Charts = { line, bars, pairedBars, gauge, clear };
})();
