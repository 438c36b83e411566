// Draw the percentile chart from the json_script data; load the vendored Chart.js if the page has not.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("bm-chart");
    var data = document.getElementById("bm-chart-data");
    if (!canvas || !data || canvas.dataset.drawn) return;
    var d = JSON.parse(data.textContent);
    var last = d.labels.length - 1;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: d.labels,
        datasets: [{
          label: d.metric,
          data: d.values.map(Number),
          backgroundColor: d.labels.map(function (_l, i) { return i === last ? "#c2410c" : "#0b6e4f"; }),
          borderRadius: 4
        }]
      },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false },
                   tooltip: { callbacks: { label: function (c) { return Number(c.raw).toLocaleString() + " wRVU"; } } } },
        scales: { x: { beginAtZero: true, title: { display: true, text: d.metric + " per year" } } }
      }
    });
    canvas.dataset.drawn = "1";
  }
  function start() {
    var canvas = document.getElementById("bm-chart");
    if (!canvas) return;
    if (window.Chart) { draw(); return; }
    var s = document.createElement("script");
    s.src = canvas.dataset.lib;
    s.onload = draw;
    document.head.appendChild(s);
  }
  // After "load", every deferred script (the page's own Chart.js included) has run.
  if (document.readyState === "complete") start(); else window.addEventListener("load", start);
})();
