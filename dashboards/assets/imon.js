/* Clientside helpers of the integration monitor (loaded from assets/, no network). */

/*
 * The Karte's frames in the browser (pages/map.py): drawing one over the boundaries on
 * screen, and the timeline's play state (a timer that moves the slider; no requests).
 */
var imonMap = {
    playing: null,   // the timer while playing
    expected: null,  // the slider position the timer set last
    dates: function (frames) {
        return frames && frames.dates ? Object.keys(frames.dates).sort() : [];
    },
    matches: function (frames, meta) {
        return Boolean(frames && meta && JSON.stringify(frames.key) === JSON.stringify(meta.key)
            && frames.geometry === meta.geometry);
    },
    /* The figure of a frame: the first trace keeps the drawn geometry, the outlines
     * (trace "outlines") their lines. */
    draw: function (frame, figure) {
        var first = Object.assign({}, frame.data[0], {
            type: figure.data[0].type, geojson: figure.data[0].geojson
        });
        var outline = figure.data.filter(function (t) { return t.name === 'outlines'; })[0];
        var rest = frame.data.slice(1).map(function (trace) {
            return trace.name === 'outlines' && outline
                ? Object.assign({}, trace, {lon: outline.lon, lat: outline.lat}) : trace;
        });
        return {data: [first].concat(rest),
                layout: Object.assign({}, figure.layout, frame.layout)};
    },
    label: function (date) {  // 2024-12-31 -> 31.12.2024
        var p = String(date || '').split('-');
        return p.length === 3 ? p[2] + '.' + p[1] + '.' + p[0] : String(date || '');
    },
    /* Marks on the slider: the years, on the dates of the last date's day and month
     * when there are several a year, at most 8 labels. */
    marks: function (dates) {
        var last = dates[dates.length - 1].slice(5);
        var same = dates.filter(function (d) { return d.slice(5) === last; });
        var shown = same.length > 1 ? same : dates;
        var step = Math.ceil(shown.length / 8);
        var marks = {};
        dates.forEach(function (d, i) { marks[i] = ''; });
        shown.slice().reverse().forEach(function (d, i) {
            if (i % step === 0) { marks[dates.indexOf(d)] = d.slice(0, 4); }
        });
        return marks;
    },
    button: function (playing) {
        var button = document.getElementById('map-play');
        if (!button) { return; }
        button.textContent = button.getAttribute(playing ? 'data-pause' : 'data-play');
        button.setAttribute('aria-pressed', playing ? 'true' : 'false');
    },
    start: function (dates, index) {
        var button = document.getElementById('map-play');
        var ms = Number(button && button.getAttribute('data-ms')) || 1200;
        var at = index;
        imonMap.button(true);
        var step = function () {
            at += 1;
            if (at >= dates.length) { imonMap.stop(dates[dates.length - 1]); return; }
            imonMap.expected = at;
            window.dash_clientside.set_props('map-slider', {value: at});
        };
        imonMap.playing = window.setInterval(step, ms);
        step();
    },
    /* Stop playing; the date control takes ``date``, the date shown (one request: the
     * table). */
    stop: function (date) {
        if (imonMap.playing === null) { return; }
        window.clearInterval(imonMap.playing);
        imonMap.playing = null;
        imonMap.button(false);
        if (date) { window.dash_clientside.set_props('map-date', {value: date}); }
    },
    /* The slider on a date chosen elsewhere (the date control). */
    follow: function (frames, date) {
        var index = imonMap.dates(frames).indexOf(date);
        if (index >= 0 && imonMap.playing === null) {
            window.dash_clientside.set_props('map-slider', {value: index});
        }
    }
};
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
         * arrived yet): ask the server (map-fetch). The timeline's slider follows.
         */
        mapDate: function (date, frames, indicator, level, classes, labels, figure) {
            var skip = window.dash_clientside.no_update;
            var key = JSON.stringify([indicator, level, classes === undefined ? null : classes,
                                      Boolean(labels && labels.length)]);
            var meta = figure && figure.layout && figure.layout.meta;
            if (!meta || !meta.key || JSON.stringify(meta.key) !== key || meta.date === date) {
                return [skip, skip, skip];
            }
            var ready = imonMap.matches(frames, meta);
            var frame = ready && frames.dates[date];
            if (!frame) {
                return [skip, skip, {date: date, at: Date.now()}];
            }
            imonMap.follow(frames, date);
            return [imonMap.draw(frame, figure), frame.note || null, skip];
        },

        /*
         * The timeline once the frames are in the browser: a slider over their dates
         * (marks: the years, at most 8), on the date shown; hidden for fewer than 2 dates.
         */
        mapTimeline: function (frames, date) {
            var skip = window.dash_clientside.no_update;
            var dates = imonMap.dates(frames);
            if (dates.length < 2) {
                imonMap.stop();
                return [skip, skip, skip, {display: 'none'}, ''];
            }
            var index = Math.max(dates.indexOf(date), 0);
            return [dates.length - 1, imonMap.marks(dates), index, null,
                    imonMap.label(dates[index])];
        },

        /*
         * The slider moved (a key, the mouse or the play button): while playing, the map
         * is redrawn from the frames, nothing is asked of the server; else the date
         * control takes the date (imon.mapDate draws it, the table follows).
         */
        mapSlide: function (index, frames, figure, date) {
            var dates = imonMap.dates(frames);
            var chosen = dates[index];
            var meta = figure && figure.layout && figure.layout.meta;
            if (!chosen) { return; }
            window.dash_clientside.set_props('map-timeline-date', {children: imonMap.label(chosen)});
            if (!meta || !imonMap.matches(frames, meta)) { imonMap.stop(); return; }
            if (imonMap.playing !== null && imonMap.expected !== index) {
                imonMap.stop(chosen);  // moved by hand while playing: stop there
                return;
            }
            if (imonMap.playing !== null) {
                if (meta.date !== chosen) {
                    var frame = frames.dates[chosen];
                    window.dash_clientside.set_props('map-graph', {figure: imonMap.draw(frame, figure)});
                    window.dash_clientside.set_props('map-note', {children: frame.note || null});
                }
            } else if (chosen !== date) {
                window.dash_clientside.set_props('map-date', {value: chosen});
            }
        },

        /* Play / pause: one date after another from the frames (PLAY_MS, pages/map.py). */
        mapPlay: function (clicks, frames, index) {
            if (imonMap.playing !== null) {
                imonMap.stop(imonMap.dates(frames)[imonMap.expected]);
                return;
            }
            var dates = imonMap.dates(frames);
            if (dates.length < 2) { return; }
            imonMap.start(dates, index >= dates.length - 1 ? -1 : index);
        },

        /*
         * The map's layout.meta (view, date, geometry key, trace count): what the browser
         * has drawn; and the view whose frames it still lacks (none: no_update).
         */
        drawnMap: function (figure, frames) {
            var meta = (figure && figure.layout && figure.layout.meta) || null;
            var have = meta && meta.key && imonMap.matches(frames, meta);
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

/*
 * The Karte's timeline slider (dcc.Slider: a handle with role "slider" and an index as its
 * value) gets the name of its label ("Zeitverlauf") and the date shown as its value text,
 * whenever it is drawn or moves.
 */
new MutationObserver(function () {
    var thumb = document.querySelector('#map-slider [role=slider]');
    if (!thumb) { return; }
    var label = document.getElementById('map-timeline-label');
    var shown = document.getElementById('map-timeline-date');
    var name = label ? label.textContent : '';
    var text = shown ? shown.textContent : '';
    if (thumb.getAttribute('aria-label') !== name) { thumb.setAttribute('aria-label', name); }
    if (text && thumb.getAttribute('aria-valuetext') !== text) {
        thumb.setAttribute('aria-valuetext', text);
    }
}).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
