/*
 * No world map for a city map (#19 page speed). Every map here draws its areas from the
 * figure's own GeoJSON (choropleth, locationmode 'geojson-id') on a hidden base map
 * (layout.geo.visible false: no land, coast, country or frame layer), yet plotly.js
 * (4.1, geo plot) fetches its world topojson for any trace with a locationmode and
 * would wait for it before drawing. An empty topology registered under the name the
 * figures' geo settings resolve to (scope 'world', resolution 110) is what plotly.js
 * finds in its cache instead, so nothing is fetched. Loaded before plotly.js (Dash
 * assets; the embed page lists it first); plotly.js keeps an existing PlotlyGeoAssets.
 */
(function () {
    var assets = window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
    assets.topojson = assets.topojson || {};
    if (!assets.topojson.world_110m) {
        assets.topojson.world_110m = {type: 'Topology', objects: {}, arcs: []};
    }
})();
