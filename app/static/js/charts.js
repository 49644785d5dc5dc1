/* Draw every chart option found on the page with ECharts (served by the app): Chinese locale, exact tooltips,
   save-as-image, resizing with the window (phones rotate). */
(function () {
  "use strict";
  var script = document.currentScript;
  var locale = (script && script.getAttribute("data-locale")) || "ZH";
  var holder = document.getElementById("report-chart");
  var source = document.getElementById("report-option");
  if (!holder || !source) { return; }
  if (typeof echarts === "undefined") {
    holder.style.height = "auto";
    holder.className += " text-muted";
    holder.textContent = locale === "ZH" ? "图表组件未安装（npm ci）。表格数据不受影响。" : "Charts are not installed (npm ci); the table is complete.";
    return;
  }
  var option = JSON.parse(source.textContent);
  var kind = option._format || "money";
  delete option._format;
  function format(value) {
    if (value === null || value === undefined || value === "-") { return "—"; }
    var n = Number(value);
    if (kind === "percent") { return n.toFixed(1) + "%"; }
    if (kind === "money") { return "¥" + n.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
    return n.toLocaleString("zh-CN", { maximumFractionDigits: 3 });
  }
  option.tooltip = option.tooltip || {};
  option.tooltip.valueFormatter = format;
  var chart = echarts.init(holder, null, { locale: locale, renderer: "canvas" });
  chart.setOption(option);
  window.addEventListener("resize", function () { chart.resize(); });
}());
