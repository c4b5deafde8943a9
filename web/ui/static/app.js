// Quire's web UI script: live updates by polling the REST API, uploads with
// progress, confirmations and the select-all boxes. It runs as a file of its
// own (the Content-Security-Policy allows no inline script) and needs no
// build step. Requests carry the session's CSRF token in X-CSRF-Token.
"use strict";

(function () {
  const csrf = document.body.dataset.csrf || "";

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: body,
    }).then(function (r) {
      if (r.status === 401 || r.status === 403) {
        // The session ended: stop polling rather than fill the console.
        throw new Error("signed out");
      }
      if (!r.ok) throw new Error(path + ": " + r.status);
      return r.json();
    });
  }

  // poll runs fn now and every ms until it throws (signed out, offline
  // for good) or the page is hidden, when it pauses.
  function poll(fn, ms) {
    let timer = null;
    function tick() {
      if (document.hidden) { timer = setTimeout(tick, ms); return; }
      Promise.resolve().then(fn).then(function (go) {
        if (go !== false) timer = setTimeout(tick, ms);
      }, function () { timer = setTimeout(tick, ms * 4); });
    }
    tick();
    return function () { clearTimeout(timer); };
  }

  // Dashboard: counters, documents by state, and the chart of the last
  // hour from the engine's per-minute counters, so it has points from
  // before the page was opened.
  const chart = document.getElementById("chart");
  if (chart) {
    let rates = [];
    const svgNS = "http://www.w3.org/2000/svg";
    function draw() {
      while (chart.firstChild) chart.removeChild(chart.firstChild);
      // The drawing takes the chart's width, so that it fills a wide
      // screen and a phone alike, text unstretched.
      const W = Math.max(chart.clientWidth, 200), H = 160, pad = 24;
      chart.setAttribute("viewBox", "0 0 " + W + " " + H);
      let top = 1;
      rates.forEach(function (r) { top = Math.max(top, r.p, r.f); });
      [0, 0.5, 1].forEach(function (k) {
        const y = H - pad - k * (H - 2 * pad);
        const l = document.createElementNS(svgNS, "line");
        l.setAttribute("x1", pad * 2); l.setAttribute("x2", W); l.setAttribute("y1", y); l.setAttribute("y2", y);
        chart.appendChild(l);
        const t = document.createElementNS(svgNS, "text");
        t.setAttribute("x", 2); t.setAttribute("y", y + 3);
        const v = top * k;
        t.textContent = (v >= 10 || v === 0 ? Math.round(v) : v.toFixed(1)) + "/min";
        chart.appendChild(t);
      });
      ["p", "f"].forEach(function (key) {
        if (rates.length < 1) return;
        const pts = rates.map(function (r, i) {
          const x = pad * 2 + (rates.length === 1 ? 0 : i * (W - pad * 2) / (rates.length - 1));
          const y = H - pad - (r[key] / top) * (H - 2 * pad);
          return x.toFixed(1) + "," + y.toFixed(1);
        });
        const cls = key === "p" ? "processed" : "failed";
        const line = document.createElementNS(svgNS, "polyline");
        line.setAttribute("points", pts.join(" "));
        line.setAttribute("class", cls);
        chart.appendChild(line);
        // A dot per sample: a single sample is no line yet.
        pts.forEach(function (p) {
          const xy = p.split(",");
          const dot = document.createElementNS(svgNS, "circle");
          dot.setAttribute("cx", xy[0]); dot.setAttribute("cy", xy[1]); dot.setAttribute("r", 3);
          dot.setAttribute("class", cls);
          chart.appendChild(dot);
        });
      });
    }
    poll(function () {
      return Promise.all([api("GET", "/api/v1/jobs/stats?minutes=60"), api("GET", "/api/v1/stats")]).then(function (res) {
        const js = res[0], ds = res[1];
        document.querySelectorAll("[data-stat]").forEach(function (el) {
          const v = js[el.dataset.stat];
          if (v !== undefined) el.textContent = v;
        });
        document.querySelectorAll("[data-docstate]").forEach(function (el) {
          const k = el.dataset.docstate;
          const done = ds.by_state.done || 0, failed = ds.by_state.failed || 0;
          const v = k === "total" ? ds.documents : k === "in_progress" ? ds.documents - done - failed : ds.by_state[k];
          if (v !== undefined) el.textContent = v;
        });
        // Oldest minute first; the current one is still counting.
        rates = (js.minutely || []).slice().reverse().map(function (m) { return { p: m.processed, f: m.failed }; });
        chart.dataset.processed = rates.reduce(function (n, r) { return n + r.p; }, 0);
        draw();
      });
    }, 5000);
  }

  // A document's page reloads when the document moves on, until it is
  // done or failed.
  const doc = document.querySelector("article.doc");
  if (doc && doc.dataset.final !== "true") {
    poll(function () {
      return api("GET", "/api/v1/documents/" + encodeURIComponent(doc.dataset.docId)).then(function (d) {
        if (d.state !== doc.dataset.state) {
          window.location.reload();
          return false;
        }
        return true;
      });
    }, 1500);
  }

  // Upload: files dropped or chosen go to the API one by one, each with a
  // progress bar and, when stored, a link to its page.
  const form = document.getElementById("upload-form");
  if (form) {
    const input = document.getElementById("file");
    const zone = document.getElementById("dropzone");
    const list = document.getElementById("uploads");
    function upload(file) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = file.name;
      const bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      const status = document.createElement("span");
      status.textContent = "uploading";
      li.append(name, bar, status);
      list.appendChild(li);
      const fd = new FormData();
      fd.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/documents");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total);
      });
      xhr.addEventListener("load", function () {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (xhr.status === 200 || xhr.status === 201) {
          bar.value = 100;
          status.textContent = xhr.status === 200 ? "already here: " : "stored: ";
          const a = document.createElement("a");
          a.href = "/documents/" + encodeURIComponent(body.id);
          a.textContent = "open";
          a.className = "upload-link";
          status.appendChild(a);
        } else {
          status.textContent = "failed: " + (body.detail || xhr.status);
          status.className = "error";
        }
      });
      xhr.addEventListener("error", function () {
        status.textContent = "failed: the connection broke";
        status.className = "error";
      });
      xhr.send(fd);
    }
    function uploadAll(files) {
      Array.prototype.forEach.call(files, upload);
    }
    input.addEventListener("change", function () {
      uploadAll(input.files);
      input.value = "";
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      uploadAll(input.files);
    });
    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) { uploadAll(e.dataTransfer.files); });
  }

  // The queues and busy tabs of the jobs page reload themselves, unless
  // someone is using a control of the page.
  const live = document.querySelector("[data-live]");
  if (live) {
    setInterval(function () {
      const active = document.activeElement;
      if (document.hidden || (active && active !== document.body)) return;
      const url = new URL(window.location.href);
      url.searchParams.delete("msg");
      window.location.replace(url.toString());
    }, Number(live.dataset.live));
  }

  document.querySelectorAll("form.confirm").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  });
  // Bulk actions on the documents list: the selected rows, or every result
  // of the list's query, sent to the API; delete asks first.
  const bulk = document.getElementById("bulk");
  if (bulk && document.getElementById("bulk-apply")) {
    const status = document.getElementById("bulk-status");
    bulk.addEventListener("submit", function (e) {
      e.preventDefault();
      const action = bulk.elements.action.value;
      const split = function (s) { return s.split(",").map(function (t) { return t.trim(); }).filter(Boolean); };
      const body = { action: action };
      if (action === "tag" || action === "untag") body.tags = split(bulk.elements.tags.value);
      if (action === "label") body.label = bulk.elements.label.value.trim();
      let what;
      if (bulk.elements.all.checked) {
        const d = bulk.dataset;
        body.query = { state: d.state || undefined, q: d.q || undefined, mime_type: d.mimeType || undefined,
          tags: d.tag ? split(d.tag) : undefined };
        what = "every document of this query";
      } else {
        body.ids = Array.from(bulk.querySelectorAll("input[name=ids]:checked")).map(function (b) { return b.value; });
        if (body.ids.length === 0) { status.textContent = "Select documents first."; return; }
        what = body.ids.length + " documents";
      }
      if (action === "delete" && !window.confirm("Delete " + what + " with their results?")) return;
      status.textContent = "Working…";
      fetch("/api/v1/documents/bulk", {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Accept": "application/json", "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }).then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) throw new Error(j.detail || r.status);
          return j;
        });
      }).then(function (res) {
        const url = new URL(window.location.href);
        url.searchParams.set("msg", action + ": " + res.matched + " documents, " + res.changed + " changed" +
          (res.skipped ? ", " + res.skipped + " skipped" : "") + ".");
        window.location.replace(url.toString());
      }, function (err) { status.textContent = "Failed: " + err.message; });
    });
  }

  document.querySelectorAll("input.select-all").forEach(function (box) {
    box.addEventListener("change", function () {
      box.closest("form").querySelectorAll("input[name=ids]").forEach(function (b) { b.checked = box.checked; });
    });
  });
})();
