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
