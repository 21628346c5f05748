/* Charts of the progress dashboards (Chart.js 4.6.1, vendored). The data comes from the page
   (json_script "dashboard-data"): counts and ratios only, no household is named. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  Chart.defaults.font.family = '"Hiragino Sans", "Yu Gothic UI", Meiryo, "Noto Sans CJK JP", sans-serif';
  Chart.defaults.animation = false;
  var colours = { coverage: "#1f6f43", card: "#1d4e89", met: "#1f6f43", absent: "#b7791f", refused: "#b42318",
    categories: ["#b42318", "#b7791f", "#1d4e89", "#6b7280"] };
  var percentAxis = { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } };

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }

  if (data.trend) {
    draw("chart-trend", {
      type: "line",
      data: { labels: data.trend.labels, datasets: [
        { label: "実施率", data: data.trend.coverage, borderColor: colours.coverage, backgroundColor: colours.coverage, spanGaps: true },
        { label: "把握率", data: data.trend.card_rate, borderColor: colours.card, backgroundColor: colours.card, spanGaps: true }
      ] },
      options: { maintainAspectRatio: false, scales: { y: percentAxis } }
    });
  }
  if (data.categories) {
    draw("chart-categories", {
      type: "doughnut",
      data: { labels: data.categories.labels, datasets: [
        { data: data.categories.values, backgroundColor: colours.categories }
      ] },
      options: { maintainAspectRatio: false, plugins: { legend: { position: "right" } } }
    });
  }
  if (data.officers) {
    draw("chart-officers", {
      type: "bar",
      data: { labels: data.officers.labels, datasets: [
        { label: "面接", data: data.officers.met, backgroundColor: colours.met, stack: "v" },
        { label: "不在", data: data.officers.absent, backgroundColor: colours.absent, stack: "v" },
        { label: "拒否", data: data.officers.refused, backgroundColor: colours.refused, stack: "v" },
        { label: "標準/月", data: data.officers.expected, type: "line", borderColor: "#111827",
          backgroundColor: "#111827", showLine: false, pointStyle: "line", pointRadius: 12, pointBorderWidth: 3 }
      ] },
      options: { maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
    });
  }
  if (data.stations) {
    draw("chart-stations", {
      type: "bar",
      data: { labels: data.stations.labels, datasets: [
        { label: "実施率", data: data.stations.coverage, backgroundColor: colours.coverage },
        { label: "把握率", data: data.stations.card_rate, backgroundColor: colours.card }
      ] },
      options: { maintainAspectRatio: false, scales: { y: percentAxis } }
    });
  }
  document.documentElement.setAttribute("data-charts", "drawn");
}());
