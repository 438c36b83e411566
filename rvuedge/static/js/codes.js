/* Code reference: keyboard-navigable typeahead (htmx fills the list), locality picker, history chart. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function items(list) {
    return Array.prototype.slice.call(list.querySelectorAll('[role="option"]'));
  }

  function setActive(input, list, index) {
    var opts = items(list);
    opts.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
    if (index >= 0 && opts[index]) {
      input.setAttribute("aria-activedescendant", opts[index].id);
      opts[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
    list.dataset.active = String(index);
  }

  function close(input, list) {
    list.innerHTML = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    list.dataset.active = "-1";
  }

  function wire(form) {
    var input = form.querySelector('input[role="combobox"]');
    var list = form.querySelector('[role="listbox"]');
    if (!input || !list || input.dataset.wired) { return; }
    input.dataset.wired = "1";
    list.dataset.active = "-1";
    input.addEventListener("keydown", function (ev) {
      var opts = items(list);
      var active = parseInt(list.dataset.active || "-1", 10);
      if (ev.key === "ArrowDown" && opts.length) {
        ev.preventDefault();
        setActive(input, list, (active + 1) % opts.length);
      } else if (ev.key === "ArrowUp" && opts.length) {
        ev.preventDefault();
        setActive(input, list, active <= 0 ? opts.length - 1 : active - 1);
      } else if (ev.key === "Enter" && active >= 0 && opts[active]) {
        ev.preventDefault();
        window.location.href = opts[active].getAttribute("href");
      } else if (ev.key === "Escape") {
        close(input, list);
      }
    });
    list.addEventListener("htmx:afterSwap", function () {
      input.setAttribute("aria-expanded", items(list).length ? "true" : "false");
      setActive(input, list, -1);
    });
    document.addEventListener("click", function (ev) {
      if (!form.contains(ev.target)) { close(input, list); }
    });
    input.addEventListener("input", function () {
      if (!input.value.trim()) { close(input, list); }
    });
  }

  function chart() {
    var data = document.getElementById("history-data");
    var canvas = document.getElementById("history-chart");
    if (!data || !canvas || !window.Chart || canvas.dataset.drawn) { return; }
    canvas.dataset.drawn = "1";
    var d = JSON.parse(data.textContent);
    var num = function (xs) { return xs.map(function (x) { return x === null ? null : parseFloat(x); }); };
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: d.labels,
        datasets: [
          { label: "Work RVU", data: num(d.work_rvu), borderColor: "#0b6e4f", backgroundColor: "#0b6e4f", yAxisID: "rvu", tension: 0.2 },
          { label: "Total RVU (non-facility)", data: num(d.nonfac_total), borderColor: "#2563eb", backgroundColor: "#2563eb", yAxisID: "rvu", tension: 0.2 },
          { label: "Total RVU (facility)", data: num(d.fac_total), borderColor: "#7c3aed", backgroundColor: "#7c3aed", borderDash: [4, 3], yAxisID: "rvu", tension: 0.2 },
          { label: "National payment, non-facility ($)", data: num(d.payment_nonfac), borderColor: "#c2410c", backgroundColor: "#c2410c", yAxisID: "usd", tension: 0.2 }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12, font: { size: 11 } } } },
        scales: {
          rvu: { type: "linear", position: "left", beginAtZero: true, title: { display: true, text: "RVUs" } },
          usd: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "$" } }
        }
      }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-typeahead]"), wire);
    chart();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  document.addEventListener("htmx:load", function () { chart(); });
})();
