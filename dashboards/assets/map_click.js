/*
 * A click on an area of any map opens its area page (#19): /gebiet?area=<id>&date=<date>,
 * keeping the language, instance and preview of the current view. The area is the
 * clicked choropleth location (its area_id); the date is the one the map shows
 * (layout.meta.date, set by the Karte), else the view's date in the address (date,
 * or date_b on the Vergleich page). Keyboard users reach the same page through the area
 * names in the table under a map.
 */
(function () {
    var KEEP = ['instance', 'lang', 'snapshot'];

    function prefix() {
        try {
            var config = JSON.parse(document.getElementById('_dash-config').textContent);
            return config.requests_pathname_prefix || '/';
        } catch (error) {
            return '/';
        }
    }

    function areaUrl(areaId, gd) {
        var current = new URLSearchParams(window.location.search);
        var meta = gd.layout && gd.layout.meta;
        var date = (meta && meta.date) || current.get('date') || current.get('date_b');
        var params = new URLSearchParams();
        params.set('area', areaId);
        if (date) { params.set('date', date); }
        KEEP.forEach(function (key) {
            if (current.has(key)) { params.set(key, current.get(key)); }
        });
        return prefix() + 'gebiet?' + params.toString();
    }

    function onClick(gd) {
        return function (event) {
            var point = event && event.points && event.points[0];
            if (!point || !point.data || point.data.type !== 'choropleth') { return; }
            if (point.location === undefined || point.location === null) { return; }
            window.location.assign(areaUrl(String(point.location), gd));
        };
    }

    function hook() {
        document.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
            if (gd.imonAreaClick || typeof gd.on !== 'function') { return; }
            gd.imonAreaClick = true;
            gd.on('plotly_click', onClick(gd));
        });
    }

    window.imonAreaUrl = areaUrl;  // for the browser tests
    new MutationObserver(hook).observe(document.documentElement, {childList: true, subtree: true});
}());
