/* The log's small helpers: quick-code chips, near-match fixes, keyboard focus, bulk selection, the chart.
   Every page works without this file; it only saves taps. */
(function () {
  "use strict";
  var box = document.getElementById("id_entry");

  function changed() {
    if (!box) return;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    var end = box.value.length;
    try { box.setSelectionRange(end, end); } catch (e) { /* type=text always supports it */ }
  }

  function tokens() { return box.value.trim().split(/[\s,;]+/).filter(Boolean); }

  // A refused entry's error (rendered by the server) is stale once the text changes: clear it at once; the
  // live check below the box says what is wrong with the new text.
  if (box) {
    var typed = box.value;
    box.addEventListener("input", function () {
      if (box.value === typed) return;
      typed = box.value;
      var form = box.form;
      if (!form) return;
      form.querySelectorAll(":scope > ul.errorlist").forEach(function (ul) { ul.remove(); });
      box.removeAttribute("aria-invalid");
    });
  }

  document.addEventListener("click", function (ev) {
    var chip = ev.target.closest("[data-code]");
    if (chip && box) {
      ev.preventDefault();
      var t = tokens();
      t.push(chip.getAttribute("data-code"));
      box.value = t.join(" ") + " ";
      changed();
      return;
    }
    var near = ev.target.closest(".near-btn");
    if (near && box) {
      ev.preventDefault();
      var from = near.getAttribute("data-from").toUpperCase(), to = near.getAttribute("data-to");
      box.value = tokens().map(function (tok) {
        if (tok.toUpperCase() !== from) return tok;
        // keep the modifiers and units typed after the code
        return to + tok.slice(to.length);
      }).join(" ") + " ";
      changed();
    }
  });

  // Words in the entry box ("99214 knee injection"): the code search offers codes to pick (a combobox listbox:
  // arrows + Enter, or a tap). Picking replaces the words with the code; codes typed stay as they are.
  var list = document.getElementById("entry-suggest");
  var status = document.getElementById("entry-suggest-status");
  if (box && list && box.dataset.suggestUrl) {
    var CODE = /^[0-9a-z]{5}([-x].*)?$/i, active = -1, timer = null, asked = "", seq = 0;
    var isCode = function (tok) { return CODE.test(tok) && /\d/.test(tok.slice(0, 5)); };
    var words = function () {
      // the words after the last code typed (the query), and what comes before them (kept)
      var parts = box.value.split(/(\s+)/), i = parts.length;
      while (i > 0 && (!parts[i - 1].trim() || !isCode(parts[i - 1].trim()))) i--;
      return { keep: parts.slice(0, i).join(""), q: parts.slice(i).join("").trim() };
    };
    var options = function () { return Array.prototype.slice.call(list.querySelectorAll('[role="option"]')); };
    var setActive = function (i) {
      var opts = options();
      active = opts.length ? (i + opts.length) % opts.length : -1;
      opts.forEach(function (o, k) { o.setAttribute("aria-selected", k === active ? "true" : "false"); });
      if (active >= 0) { box.setAttribute("aria-activedescendant", opts[active].id); opts[active].scrollIntoView({ block: "nearest" }); }
      else { box.removeAttribute("aria-activedescendant"); }
    };
    var closeList = function () {
      list.hidden = true; list.innerHTML = ""; active = -1; asked = "";
      box.setAttribute("aria-expanded", "false"); box.removeAttribute("aria-activedescendant");
    };
    var pick = function (code) {
      var w = words();
      box.value = (w.keep ? w.keep.replace(/\s*$/, " ") : "") + code + " ";
      closeList();
      changed();
    };
    var show = function (data, q) {
      list.innerHTML = "";
      (data.results || []).forEach(function (r, k) {
        var li = document.createElement("li");
        li.id = "entry-opt-" + k; li.setAttribute("role", "option"); li.setAttribute("aria-selected", "false");
        li.dataset.pick = r.code;
        var c = document.createElement("span"); c.className = "es-code mono"; c.textContent = r.code;
        var d = document.createElement("span"); d.className = "es-desc"; d.textContent = r.title || r.descriptor || r.category;
        var m = document.createElement("span"); m.className = "es-meta";
        m.textContent = r.work_rvu && r.work_rvu !== "0.00" ? r.work_rvu + " wRVU" : (r.status ? "status " + r.status : r.category);
        li.appendChild(c); li.appendChild(d); li.appendChild(m);
        list.appendChild(li);
      });
      var n = list.children.length;
      if (data.corrected && n) {
        var note = document.createElement("li"); note.className = "es-note"; note.setAttribute("role", "presentation");
        note.textContent = "Showing codes for “" + data.corrected + "”";
        list.appendChild(note);
      }
      list.hidden = n === 0; active = -1;
      box.setAttribute("aria-expanded", n ? "true" : "false");
      if (status) status.textContent = n ? n + " codes match “" + q + "”; arrow keys to choose, Enter to pick" : "No code matches “" + q + "”";
    };
    var ask = function () {
      var q = words().q;
      if (q.length < 3 || !/[a-z]{2}/i.test(q)) { closeList(); return; }
      if (q === asked) return;
      asked = q;
      var mine = ++seq;
      fetch(box.dataset.suggestUrl + "?format=json&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (mine === seq && words().q === q) show(data, q); })
        .catch(function () { /* offline: the box still takes codes */ });
    };
    box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 120); });
    box.addEventListener("keydown", function (ev) {
      if (list.hidden) return;
      if (ev.key === "ArrowDown") { ev.preventDefault(); setActive(active + 1); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); setActive(active - 1); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); pick(options()[active].dataset.pick); }
      else if (ev.key === "Escape") { ev.preventDefault(); closeList(); }
    });
    list.addEventListener("mousedown", function (ev) { ev.preventDefault(); });  // keep the focus in the box
    list.addEventListener("click", function (ev) {
      var opt = ev.target.closest('[role="option"]');
      if (opt) pick(opt.dataset.pick);
    });
    document.addEventListener("click", function (ev) {
      if (!list.hidden && ev.target !== box && !list.contains(ev.target)) closeList();
    });
  }

  // "/" jumps to the entry box from anywhere on a log page.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "/" || !box || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var tag = (document.activeElement && document.activeElement.tagName) || "";
    if (/INPUT|TEXTAREA|SELECT/.test(tag)) return;
    ev.preventDefault();
    box.focus();
  });

  // The server's "today" is UTC; a clinician means their own today.
  var date = document.getElementById("id_date");
  if (date && date.dataset.today && date.value === date.dataset.today) {
    var now = new Date();
    var local = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
    if (local !== date.value) { date.value = local; }
  }

  // History: select all, selected count, actions enabled only with a selection.
  var all = document.getElementById("check-all");
  var bulk = document.getElementById("bulk-form");
  if (all && bulk) {
    var boxes = function () { return bulk.querySelectorAll("td.sel input[type=checkbox]"); };
    var sync = function () {
      var n = 0;
      boxes().forEach(function (b) { if (b.checked) n++; });
      document.getElementById("bulk-count").textContent = n ? n + " selected" : "Select";
      bulk.querySelectorAll("[data-needs-selection]").forEach(function (b) { b.disabled = n === 0; });
      all.checked = n > 0 && n === boxes().length;
    };
    all.addEventListener("change", function () { boxes().forEach(function (b) { b.checked = all.checked; }); sync(); });
    bulk.addEventListener("change", function (ev) { if (ev.target !== all) sync(); });
    sync();
  }

  // Dashboard chart (the table view below it holds the same numbers).
  var data = document.getElementById("chart-data");
  var canvas = document.getElementById("wrvu-chart");
  if (data && canvas) {
    var draw = function () {
      if (!window.Chart) return;
      var d = JSON.parse(data.textContent);
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: d.labels, datasets: [{ label: "wRVU", data: d.wrvu.map(Number), backgroundColor: "#0b6e4f", borderRadius: 3 }] },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: function (c) { return "Medicare $" + d.payment[c.dataIndex]; } } } },
          scales: { y: { beginAtZero: true, title: { display: true, text: "wRVU" } }, x: { ticks: { maxRotation: 0, autoSkip: true } } }
        }
      });
    };
    if (window.Chart) draw(); else window.addEventListener("load", draw);
  }
})();
