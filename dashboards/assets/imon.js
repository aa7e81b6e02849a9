/* Clientside helpers of the integration monitor (loaded from assets/, no network). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    imon: {
        /*
         * Mirror control values into the query string without reloading the page, so the
         * view can be bookmarked and shared. Arguments: the control values, then the list
         * of query parameter names (last argument). history.replaceState does not notify
         * the Dash router, so the page is not rebuilt.
         */
        syncQuery: function () {
            var args = Array.prototype.slice.call(arguments);
            var keys = args.pop() || [];
            var parts = [];
            keys.forEach(function (key, i) {
                var value = args[i];
                if (value === null || value === undefined || value === '') { return; }
                if (Array.isArray(value)) {
                    if (value.length === 0) { return; }
                    value = value.map(function (v) { return encodeURIComponent(String(v)); })
                        .join(',');
                } else {
                    value = encodeURIComponent(String(value));
                }
                parts.push(encodeURIComponent(key) + '=' + value);
            });
            // the language, the instance and the preview belong to every view (context.py)
            var current = new URLSearchParams(window.location.search);
            ['instance', 'lang', 'snapshot'].forEach(function (key) {
                if (current.has(key) && keys.indexOf(key) < 0) {
                    parts.push(key + '=' + encodeURIComponent(current.get(key)));
                }
            });
            var query = parts.join('&');
            var url = window.location.pathname + (query ? '?' + query : '');
            if (url !== window.location.pathname + window.location.search) {
                window.history.replaceState(window.history.state, '', url);
            }
            return query;
        },

        /*
         * Navigation links: class "nav-link active" for the current page, and hrefs that
         * keep the language and the instance of the current view.
         */
        navActive: function (href) {
            var outputs = window.dash_clientside.callback_context.outputs_list;
            var url = new URL(href || window.location.href);
            var keep = new URLSearchParams();
            ['instance', 'lang', 'snapshot'].forEach(function (key) {
                if (url.searchParams.has(key)) { keep.set(key, url.searchParams.get(key)); }
            });
            var query = keep.toString();
            return [
                outputs[0].map(function (output) {
                    return output.id.path === url.pathname ? 'nav-link active' : 'nav-link';
                }),
                outputs[1].map(function (output) {
                    return output.id.path + (query ? '?' + query : '');
                })
            ];
        },

        /*
         * A new reference date on the map, drawn in the browser: the frame of that date
         * (pages/map.py, store map-frames) over the boundaries already drawn. A map drawn
         * for other controls: the server is drawing the new view, nothing to do. A date
         * the frames do not cover (other boundaries or none, or the frames have not
         * arrived yet): ask the server (map-fetch).
         */
        mapDate: function (date, frames, indicator, level, classes, labels, figure) {
            var skip = window.dash_clientside.no_update;
            var key = JSON.stringify([indicator, level, classes === undefined ? null : classes,
                                      Boolean(labels && labels.length)]);
            var meta = figure && figure.layout && figure.layout.meta;
            if (!meta || !meta.key || JSON.stringify(meta.key) !== key || meta.date === date) {
                return [skip, skip, skip];
            }
            var ready = frames && JSON.stringify(frames.key) === key
                && frames.geometry === meta.geometry;
            var frame = ready && frames.dates[date];
            if (!frame) {
                return [skip, skip, {date: date, at: Date.now()}];
            }
            var first = Object.assign({}, frame.data[0], {
                type: figure.data[0].type, geojson: figure.data[0].geojson
            });
            return [
                {data: [first].concat(frame.data.slice(1)),
                 layout: Object.assign({}, figure.layout, frame.layout)},
                frame.note || null,
                skip
            ];
        },

        /*
         * The map's layout.meta (view, date, geometry key, trace count): what the browser
         * has drawn; and the view whose frames it still lacks (none: no_update).
         */
        drawnMap: function (figure, frames) {
            var meta = (figure && figure.layout && figure.layout.meta) || null;
            var have = meta && meta.key && frames
                && JSON.stringify(frames.key) === JSON.stringify(meta.key)
                && frames.geometry === meta.geometry;
            var wanted = meta && meta.key && meta.geometry && !have
                ? {key: meta.key, geometry: meta.geometry}
                : window.dash_clientside.no_update;
            return [meta, wanted];
        },

        /* Language / instance links: the current page and view with one setting changed. */
        settingLinks: function (href) {
            var outputs = window.dash_clientside.callback_context.outputs_list;
            return outputs.map(function (output) {
                var url = new URL(href || window.location.href);
                url.searchParams.set(output.id.key, output.id.value);
                return url.pathname + url.search;
            });
        }
    }
});

/*
 * The controls write the view into the address with history.replaceState (syncQuery),
 * which dcc.Location does not notice, so the language and instance links drawn from it
 * (settingLinks) would lead back to the view the page was opened with. When one is used
 * (click, middle click, Enter, "copy link") it takes the address of the view on screen.
 */
['click', 'auxclick', 'contextmenu'].forEach(function (type) {
    document.addEventListener(type, function (event) {
        var link = event.target.closest ? event.target.closest('a.setting-link') : null;
        var setting;
        try { setting = link && JSON.parse(link.id); } catch (error) { return; }
        if (!setting || !setting.key) { return; }
        var url = new URL(window.location.href);
        url.searchParams.set(setting.key, setting.value);
        link.setAttribute('href', url.pathname + url.search);
    }, true);
});
