// An embedded chart (dashboards/embed.py): the figure is data in the page
// (<script type="application/json">, never executed), drawn by plotly.js, resizing with
// the frame. No other script runs (CSP script-src 'self'). A frame narrower than
// NARROW_FRAME_PX (a phone) gets the narrow layout's title, subtitle and footer, wrapped
// by the server for a narrow frame (embed.py narrow_layout).
(function () {
  var NARROW_FRAME_PX = 600;  // as embed.py and assets/phone.js
  var data = JSON.parse(document.getElementById('embed-figure').textContent);
  var chart = document.getElementById('embed-chart');
  var config = {responsive: true, displaylogo: false, displayModeBar: false,
                topojsonURL: chart.dataset.topojson};  // ours: nothing from elsewhere
  var layout = data.layout;
  if (data.narrow && chart.clientWidth < NARROW_FRAME_PX) {
    var narrow = data.narrow;
    layout.title.text = narrow.title.text;
    layout.title.subtitle = Object.assign(layout.title.subtitle || {}, narrow.title.subtitle);
    layout.annotations = narrow.annotations;
    layout.margin = Object.assign(layout.margin || {}, narrow.margin);
    layout.height = narrow.height;
  }
  Plotly.newPlot(chart, data.data, layout, config);
})();
