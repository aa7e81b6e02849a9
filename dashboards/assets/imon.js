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
            var query = parts.join('&');
            var url = window.location.pathname + (query ? '?' + query : '');
            if (url !== window.location.pathname + window.location.search) {
                window.history.replaceState(window.history.state, '', url);
            }
            return query;
        },

        /* Class names of the navigation links: "nav-link active" for the current page. */
        navActive: function (pathname) {
            var outputs = window.dash_clientside.callback_context.outputs_list;
            return outputs.map(function (output) {
                return output.id.path === pathname ? 'nav-link active' : 'nav-link';
            });
        }
    }
});
