// An embedded chart (dashboards/embed.py): the figure is data in the page
// (<script type="application/json">, never executed), drawn by plotly.js, resizing with
// the frame. No other script runs (CSP script-src 'self').
(function () {
  var data = JSON.parse(document.getElementById('embed-figure').textContent);
  var chart = document.getElementById('embed-chart');
  var config = {responsive: true, displaylogo: false, displayModeBar: false,
                topojsonURL: chart.dataset.topojson};  // ours: nothing from elsewhere
  Plotly.newPlot(chart, data.data, data.layout, config);
})();
