// Connects the page to the live stream, switches windows and posts
// feedback. URLs are relative to the page, so the dashboard also works
// when an application nests it under a prefix.
"use strict";

(function () {
  const WINDOWS = ["1m", "1h", "1d"];
  const status = document.getElementById("status");
  let source = null;

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function currentWindow() {
    const hash = location.hash.replace("#", "");
    return WINDOWS.includes(hash) ? hash : "1m";
  }

  function connect() {
    if (source) source.close();
    const windowName = currentWindow();
    for (const button of document.querySelectorAll("#window button")) {
      button.setAttribute("aria-pressed", String(button.dataset.window === windowName));
    }
    setStatus("connecting", "connecting");
    source = new EventSource("dashboard/api/stream?window=" + encodeURIComponent(windowName));
    // Only a snapshot proves the stream works: a server that is shutting
    // down accepts the connection and closes it at once.
    source.addEventListener("snapshot", (event) => {
      setStatus("live", "live");
      Panels.render(JSON.parse(event.data));
    });
    // EventSource retries by itself, and the indicator shows
    // "reconnecting" until a new event arrives.
    source.addEventListener("error", () => setStatus("reconnecting", "reconnecting"));
  }

  for (const button of document.querySelectorAll("#window button")) {
    button.addEventListener("click", () => {
      location.hash = button.dataset.window;
    });
  }
  window.addEventListener("hashchange", connect);

  const form = document.getElementById("feedback-form");
  const result = document.getElementById("fb-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const comment = document.getElementById("fb-comment").value;
    const body = {
      request_id: document.getElementById("fb-request-id").value.trim(),
      rating: Number(document.getElementById("fb-rating").value),
      comment: comment.trim() === "" ? null : comment,
    };
    result.dataset.state = "sending";
    result.textContent = "sending";
    try {
      const response = await fetch("v1/feedback", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const reply = await response.json().catch(() => null);
      if (response.ok) {
        result.dataset.state = "ok";
        result.textContent = "stored for " + body.request_id;
        form.reset();
      } else {
        result.dataset.state = "error";
        result.textContent = reply && reply.error ? reply.error.message : "failed with HTTP " + response.status;
      }
    } catch (error) {
      result.dataset.state = "error";
      result.textContent = "the server is not reachable: " + error.message;
    }
  });

  connect();
})();
