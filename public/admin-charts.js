// Draws each <table data-chart> of the admin overview as a chart with Chart.js
// (served by Paperboy from node_modules). The tables stay the source of truth:
// without JavaScript they are what the operator reads.
(function () {
  'use strict';
  if (typeof window.Chart !== 'function') return;
  var palette = ['#1f5fbf', '#2e9d5b', '#d08a1c', '#b3261e', '#7a4fbf', '#0f8b9c', '#6b6f7a', '#c2457a'];
  document.querySelectorAll('table[data-chart]').forEach(function (table) {
    var kind = table.getAttribute('data-chart');
    var holder = document.querySelector('[data-chart-for="' + table.id + '"]');
    if (!holder) return;
    var heads = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) { return c.textContent; }).slice(1);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var labels = rows.map(function (r) { return r.cells[0].textContent; });
    var datasets = heads.map(function (h, i) {
      return {
        label: h,
        data: rows.map(function (r) { var t = r.cells[i + 1].textContent.trim(); return t === '' ? null : Number(t); }),
        borderColor: palette[i % palette.length],
        backgroundColor: palette[i % palette.length],
        borderWidth: 2,
        pointRadius: 2,
        spanGaps: true,
      };
    });
    var canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', (document.getElementById(table.id + '-title') || {}).textContent + ' (the table below has the numbers)');
    holder.appendChild(canvas);
    var details = table.closest('details');
    if (details) details.open = false;
    new window.Chart(canvas, {
      type: kind === 'bar' || kind === 'stacked' ? 'bar' : 'line',
      data: { labels: labels, datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: { x: { stacked: kind === 'stacked' }, y: { stacked: kind === 'stacked', beginAtZero: true } },
        plugins: { legend: { position: 'bottom' } },
      },
    });
  });
})();
