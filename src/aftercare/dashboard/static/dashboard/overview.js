/* Overview charts (Chart.js 4, vendored). The data comes from the page's json_script block
   "overview-data" — never from inline-interpolated JS — and is drawn as is: no computation here.
   Money arrives as decimal strings and is formatted with the page's locale and the store
   currency (Intl, CLDR data of the browser). */
(function () {
  "use strict";

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function draw() {
    var source = document.getElementById("overview-data");
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var locale = data.locale || document.documentElement.lang || "en";
    var counts = new Intl.NumberFormat(locale);
    var money = data.currency
      ? new Intl.NumberFormat(locale, { style: "currency", currency: data.currency })
      : null;
    var compactMoney = data.currency
      ? new Intl.NumberFormat(locale, {
          style: "currency", currency: data.currency, notation: "compact", maximumFractionDigits: 1
        })
      : null;
    var colours = [css("--chart-1") || "#1b56c2", css("--chart-2") || "#e07a1f"];
    var muted = css("--muted") || "#525e6d";
    var reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

    function numbers(values) {
      return values.map(function (v) { return v === null ? null : Number(v); });
    }
    function base(formatAxis, formatTip) {
      return {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduced ? false : { duration: 250 },
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var value = ctx.parsed.y;
                return ctx.dataset.label + ": " + (value === null ? "—" : formatTip(value));
              }
            }
          }
        },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } },
          y: { beginAtZero: true, ticks: { callback: function (v) { return formatAxis(v); } } }
        }
      };
    }

    var revenueCanvas = document.getElementById("chart-revenue");
    if (revenueCanvas && data.revenue) {
      var revenueOptions = base(compactMoney.format, money.format);
      revenueOptions.scales.x.stacked = true;
      revenueOptions.scales.y.stacked = true;
      new Chart(revenueCanvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: data.text["new"], data: numbers(data.revenue["new"]), backgroundColor: colours[0] },
            { label: data.text.returning, data: numbers(data.revenue.returning), backgroundColor: colours[1] }
          ]
        },
        options: revenueOptions
      });
    }

    var ordersCanvas = document.getElementById("chart-orders");
    if (ordersCanvas) {
      var ordersOptions = base(counts.format, counts.format);
      ordersOptions.plugins.tooltip.callbacks.title = function (items) {
        return items.length ? data.labels[items[0].dataIndex] : "";
      };
      ordersOptions.plugins.tooltip.callbacks.label = function (ctx) {
        var label = ctx.datasetIndex === 1
          ? data.text.previous + " (" + data.previousLabels[ctx.dataIndex] + ")"
          : ctx.dataset.label;
        return label + ": " + counts.format(ctx.parsed.y);
      };
      new Chart(ordersCanvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [
            { label: data.text.orders, data: data.orders.current, borderColor: colours[0],
              backgroundColor: colours[0], tension: 0.25, pointRadius: data.labels.length > 40 ? 0 : 2 },
            { label: data.text.previous, data: data.orders.previous, borderColor: muted,
              backgroundColor: muted, borderDash: [6, 4], tension: 0.25, pointRadius: 0 }
          ]
        },
        options: ordersOptions
      });
    }

    var aovCanvas = document.getElementById("chart-aov");
    if (aovCanvas && data.aov) {
      new Chart(aovCanvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [
            { label: data.text["new"], data: numbers(data.aov["new"]), borderColor: colours[0],
              backgroundColor: colours[0], spanGaps: true, tension: 0.25, pointRadius: 2 },
            { label: data.text.returning, data: numbers(data.aov.returning), borderColor: colours[1],
              backgroundColor: colours[1], spanGaps: true, tension: 0.25, pointRadius: 2 }
          ]
        },
        options: base(compactMoney.format, money.format)
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
