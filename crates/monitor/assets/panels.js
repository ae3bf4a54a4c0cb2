// Renders one snapshot (the JSON of GET dashboard/api/snapshot) into the
// page. Text is set with textContent only; raw values go into data-value
// attributes for scripts and tests.
"use strict";

(function () {
  const byId = (id) => document.getElementById(id);

  const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

  const format = {
    count: (value) => integer.format(value),
    ms: (value) => (value === null || value === undefined ? "–" : decimal.format(value) + " ms"),
    usd: (value) => {
      if (value === null || value === undefined) return "–";
      const digits = Math.abs(value) < 1 && value !== 0 ? 4 : 2;
      return "$" + value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    },
    percent: (ratio) => (ratio === null || ratio === undefined ? "–" : decimal.format(ratio * 100) + "%"),
    number: (value) => (value === null || value === undefined ? "–" : decimal.format(value)),
    age: (seconds) => {
      if (seconds === null || seconds === undefined) return "–";
      if (seconds < 120) return seconds + " s";
      if (seconds < 7200) return Math.round(seconds / 60) + " min";
      return decimal.format(seconds / 3600) + " h";
    },
    time: (ms) => new Date(ms).toLocaleString(),
    clock: (ms) => new Date(ms).toLocaleTimeString(),
  };

  function show(id, value, text) {
    const element = byId(id);
    element.textContent = text;
    element.dataset.value = value === null || value === undefined ? "" : String(value);
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  // Fills the body of table `id` with one row per item, or one row saying
  // there is nothing.
  function table(id, items, columns, empty) {
    const body = byId(id).tBodies[0];
    Charts.clear(body);
    if (items.length === 0) {
      const row = body.insertRow();
      const td = cell(row, empty);
      td.colSpan = byId(id).tHead.rows[0].cells.length;
      td.className = "empty-note";
      return;
    }
    for (const item of items) {
      const row = body.insertRow();
      for (const column of columns) cell(row, column(item));
    }
  }

  function list(id, items, render, empty) {
    const container = byId(id);
    Charts.clear(container);
    if (items.length === 0) {
      const li = document.createElement("li");
      li.className = "empty-note";
      li.textContent = empty;
      container.appendChild(li);
      return;
    }
    for (const item of items) container.appendChild(render(item));
  }

  // Shows a Panel<T> (status ok, absent or error); returns its data when ok.
  function panel(name, value) {
    const section = byId("panel-" + name);
    const note = byId(name + "-note");
    section.dataset.status = value.status;
    if (value.status === "absent") {
      note.textContent = value.hint;
      return null;
    }
    if (value.status === "error") {
      note.textContent = "Source failed: " + value.message;
      return null;
    }
    note.textContent = "";
    return value.data;
  }

  // Writes the start and end time of a series under its chart.
  function timeAxis(chartId, series) {
    const chart = byId(chartId);
    let axis = chart.nextElementSibling;
    if (!axis || !axis.classList.contains("axis")) {
      axis = document.createElement("div");
      axis.className = "axis";
      chart.after(axis);
    }
    Charts.clear(axis);
    if (series.length === 0) return;
    const start = document.createElement("span");
    start.textContent = format.clock(series[0].t_ms);
    const end = document.createElement("span");
    end.textContent = format.clock(series[series.length - 1].t_ms);
    axis.append(start, end);
  }

  function countBars(id, items, empty) {
    Charts.bars(byId(id), items.map((item) => ({ label: item.name, value: item.count, text: format.count(item.count) })), { empty });
  }

  function costBars(id, items) {
    Charts.bars(byId(id), items.map((item) => ({
      label: item.key,
      value: item.cost_usd,
      text: format.usd(item.cost_usd),
    })), { empty: "no spend in this window" });
  }

  function traffic(snapshot) {
    const t = snapshot.traffic;
    show("traffic-requests", t.requests, format.count(t.requests));
    show("traffic-errors", t.errors, format.count(t.errors));
    show("traffic-error-ratio", t.error_ratio, format.percent(t.error_ratio));
    show("traffic-rps", t.requests_per_second, format.number(t.requests_per_second));
    const series = t.series;
    Charts.line(byId("chart-traffic"), [
      { name: "requests", cls: "s0", values: series.map((p) => p.requests) },
      { name: "errors", cls: "s3", values: series.map((p) => p.errors) },
    ], format.count);
    timeAxis("chart-traffic", series);
    countBars("bars-errors", t.errors_by_class, "no errors in this window");

    show("tokens-input", t.input_tokens, format.count(t.input_tokens));
    show("tokens-output", t.output_tokens, format.count(t.output_tokens));
    Charts.line(byId("chart-tokens"), [
      { name: "input", cls: "s0", values: series.map((p) => p.input_tokens) },
      { name: "output", cls: "s2", values: series.map((p) => p.output_tokens) },
    ], format.count);
    timeAxis("chart-tokens", series);
  }

  function latency(snapshot) {
    const l = snapshot.latency;
    show("latency-p50", l.p50_ms, format.ms(l.p50_ms));
    show("latency-p90", l.p90_ms, format.ms(l.p90_ms));
    show("latency-p95", l.p95_ms, format.ms(l.p95_ms));
    show("latency-p99", l.p99_ms, format.ms(l.p99_ms));
    show("latency-ttft-p50", l.ttft_p50_ms, format.ms(l.ttft_p50_ms));
    show("latency-ttft-p99", l.ttft_p99_ms, format.ms(l.ttft_p99_ms));
    const series = snapshot.traffic.series;
    Charts.line(byId("chart-latency"), [
      { name: "p50", cls: "s0", values: series.map((p) => p.p50_ms) },
      { name: "p95", cls: "s1", values: series.map((p) => p.p95_ms) },
      { name: "p99", cls: "s3", values: series.map((p) => p.p99_ms) },
    ], format.ms);
    timeAxis("chart-latency", series);
  }

  function cost(snapshot) {
    const c = snapshot.cost;
    show("cost-total", c.total_usd, format.usd(c.total_usd));
    show("cost-month-end", c.projected_month_end_usd, format.usd(c.projected_month_end_usd));
    Charts.line(byId("chart-cost"), [
      { name: "spend", cls: "s0", values: snapshot.traffic.series.map((p) => p.cost_usd) },
    ], format.usd);
    timeAxis("chart-cost", snapshot.traffic.series);
    costBars("bars-cost-model", c.by_model);
    costBars("bars-cost-team", c.by_team);
    costBars("bars-cost-prompt", c.by_prompt_version);

    Charts.bars(byId("budgets"), c.budgets.map((budget) => {
      const top = Math.max(budget.limit_usd, budget.projected_usd, budget.spent_usd);
      return {
        key: budget.scope + "/" + budget.period,
        label: budget.scope + " per " + budget.period,
        value: budget.spent_usd / (top || 1),
        over: budget.projected_usd > budget.limit_usd,
        cls: budget.spent_usd > budget.limit_usd ? "s3" : "s0",
        markers: [
          { value: budget.projected_usd / (top || 1), cls: "projection" },
          { value: budget.limit_usd / (top || 1), cls: "limit" },
        ],
        text: format.usd(budget.spent_usd) + " of " + format.usd(budget.limit_usd) + ", projected " + format.usd(budget.projected_usd),
      };
    }), { max: 1, empty: "no budgets configured" });

    table("alternatives", c.alternatives, [
      (a) => a.model,
      (a) => format.usd(a.cost_usd),
      (a) => (a.ratio === null ? "–" : "×" + decimal.format(a.ratio)),
    ], "no priced alternatives");
  }

  function cacheAndFallbacks(snapshot) {
    const cache = snapshot.cache;
    show("cache-ratio", cache.hit_ratio, format.percent(cache.hit_ratio));
    show("cache-hits", cache.hits, format.count(cache.hits) + " / " + format.count(cache.lookups));
    Charts.gauge(byId("chart-cache"), cache.hit_ratio);
    show("fallback-count", snapshot.fallbacks.requests_with_fallback, format.count(snapshot.fallbacks.requests_with_fallback));
    countBars("bars-fallback", snapshot.fallbacks.by_reason, "no failed attempts");
    countBars("bars-guard", snapshot.guard_findings, "no guard findings");
  }

  // One row per prompt version and metric, with the version's user
  // feedback (mean rating, count, share of 4 and 5 ratings, newest
  // comments) in cells spanning that version's rows. Versions with ratings
  // but no scores get a row of their own.
  function scoreTable(scores, feedback) {
    const versions = new Map();
    const entry = (prompt, version) => {
      const key = prompt + "@" + version;
      if (!versions.has(key)) versions.set(key, { key, scores: [], feedback: null });
      return versions.get(key);
    };
    for (const score of scores) entry(score.prompt, score.version).scores.push(score);
    for (const rating of feedback) entry(rating.prompt, rating.version).feedback = rating;

    const body = byId("scores").tBodies[0];
    Charts.clear(body);
    if (versions.size === 0) {
      const td = cell(body.insertRow(), "nothing scored or rated in this window");
      td.colSpan = byId("scores").tHead.rows[0].cells.length;
      td.className = "empty-note";
      return;
    }
    for (const group of versions.values()) {
      const rows = group.scores.length > 0 ? group.scores : [null];
      rows.forEach((score, index) => {
        const row = body.insertRow();
        row.dataset.version = group.key;
        cell(row, group.key);
        cell(row, score ? score.metric : "–");
        cell(row, score ? format.number(score.mean) : "–");
        cell(row, score ? format.count(score.count) : "–");
        if (index === 0) feedbackCells(row, group.feedback, rows.length);
      });
    }
  }

  function feedbackCells(row, rating, span) {
    const cells = rating === null
      ? [cell(row, "–"), cell(row, "–"), cell(row, "–")]
      : [
          cell(row, decimal.format(rating.mean_rating) + " / 5 (" + format.count(rating.count) + ")"),
          cell(row, format.percent(rating.positive_ratio)),
          commentCell(row, rating.latest_comments),
        ];
    const names = ["rating", "positive", "comments"];
    cells.forEach((td, index) => {
      td.rowSpan = span;
      td.dataset.feedback = names[index];
    });
  }

  function commentCell(row, comments) {
    const td = document.createElement("td");
    if (comments.length === 0) td.textContent = "–";
    for (const comment of comments) {
      const quote = document.createElement("div");
      quote.className = "comment";
      quote.textContent = comment;
      td.appendChild(quote);
    }
    row.appendChild(td);
    return td;
  }

  function quality(snapshot) {
    const data = panel("quality", snapshot.quality);
    if (!data) return;
    scoreTable(data.scores, data.feedback || []);
    Charts.bars(byId("bars-hallucination"), data.hallucination.map((row) => ({
      key: row.model + " " + (row.prompt_version || ""),
      label: row.model + (row.prompt_version ? " · " + row.prompt_version : ""),
      value: row.rate,
      cls: "s3",
      text: format.percent(row.rate) + " of " + format.count(row.scored),
    })), { max: 1, empty: "no groundedness scores in this window" });
  }

  function drift(snapshot) {
    const data = panel("drift", snapshot.drift);
    if (!data) return;
    const severity = byId("drift-severity");
    show("drift-severity", data.severity, data.severity);
    severity.className = "severity-" + data.severity.replace(/[^a-z]/g, "");
    show("drift-baseline", data.baseline, data.baseline);
    show("drift-created", data.created_at_ms, format.time(data.created_at_ms));
    table("drift-measures", data.measures, [
      (m) => m.name,
      (m) => format.number(m.value),
      (m) => (m.threshold === null ? "–" : format.number(m.threshold) + (m.value >= m.threshold ? " (exceeded)" : "")),
    ], "no measures");
    Charts.pairedBars(byId("bars-topics"), data.topics.map((topic) => ({
      label: topic.label,
      first: topic.baseline,
      second: topic.current,
      firstText: format.percent(topic.baseline),
      secondText: format.percent(topic.current),
    })), ["s4", "s0"]);
  }

  function oversight(snapshot) {
    const data = panel("oversight", snapshot.oversight);
    if (!data) return;
    show("oversight-pending", data.pending, format.count(data.pending));
    show("oversight-oldest", data.oldest_pending_age_s, format.age(data.oldest_pending_age_s));
    table("oversight-items", data.items, [
      (item) => item.id,
      (item) => item.kind,
      (item) => item.status,
      (item) => format.time(item.created_at_ms),
    ], "the queue is empty");
  }

  function feedback(snapshot) {
    const data = panel("feedback", snapshot.feedback);
    if (!data) return;
    show("feedback-count", data.count, format.count(data.count));
    show("feedback-mean", data.mean_rating, data.mean_rating === null ? "–" : decimal.format(data.mean_rating) + " / 5");
    list("feedback-recent", data.recent, (item) => {
      const li = document.createElement("li");
      li.dataset.requestId = item.request_id;
      const head = document.createElement("strong");
      head.textContent = "★".repeat(item.rating) + " ";
      const source = document.createElement("span");
      source.className = "muted";
      let version = "";
      if (item.prompt) {
        version = " · " + item.prompt;
        if (item.prompt_version !== null && item.prompt_version !== undefined) {
          version += "@" + item.prompt_version;
        }
      }
      source.textContent = item.request_id + version;
      li.append(head, source);
      if (item.comment) {
        const comment = document.createElement("div");
        comment.className = "comment";
        comment.textContent = item.comment;
        li.appendChild(comment);
      }
      return li;
    }, "no ratings in this window");
  }

  function alerts(snapshot) {
    list("alerts", snapshot.alerts, (alert) => {
      const li = document.createElement("li");
      li.dataset.rule = alert.rule;
      li.dataset.status = alert.status;
      li.className = "alert-" + alert.status;
      const value = alert.value === null ? "no data" : format.number(alert.value);
      li.textContent = alert.rule + ": " + alert.status + " (" + value + " vs " + format.number(alert.threshold) + ", since " + format.clock(alert.since_ms) + ")";
      return li;
    }, "no alert rules");
  }

  const renderers = { traffic, latency, cost, cacheAndFallbacks, quality, drift, oversight, feedback, alerts };

  // Renders every panel. A renderer that throws logs its error to the
  // console and leaves the other panels drawn.
  function render(snapshot) {
    for (const [name, renderer] of Object.entries(renderers)) {
      try {
        renderer(snapshot);
      } catch (error) {
        console.error("rendering " + name + " failed", error);
      }
    }
    show("generated-at", snapshot.generated_at_ms, format.clock(snapshot.generated_at_ms));
  }

  window.Panels = { render };
})();
