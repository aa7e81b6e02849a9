/* Keyboard use of the integration monitor (loaded from assets/, no network). */

/*
 * The skip link ("Zum Inhalt springen", components.skip_link) focuses <main> without
 * changing the address: a new #hash makes dcc.Location report the query string that the
 * controls wrote with history.replaceState, and Dash's router would rebuild the page.
 */
document.addEventListener('click', function (event) {
    var link = event.target.closest ? event.target.closest('a.skip-link') : null;
    var target = link && document.getElementById(link.getAttribute('href').slice(1));
    if (!target) { return; }
    event.preventDefault();
    target.focus();
});

window.dash_clientside = Object.assign({}, window.dash_clientside, {
    keyboard: {
        /*
         * Tables (dashboards/tables.py): keep the focus on the sort or pager button pressed.
         * Dash 4 mounts the children a callback returns afresh, so the re-sorted or re-paged
         * table has new buttons and the focus would fall back to <body>. The button gets
         * it back once the table is redrawn (a pager button now disabled hands it to the
         * other pager button).
         */
        keepTableFocus: function () {
            var noUpdate = window.dash_clientside.no_update;
            var ctx = window.dash_clientside.callback_context;
            // a redrawn table's new buttons (n_clicks empty) trigger this too: not a press
            if (!ctx.triggered.some(function (t) { return t.value; })) { return noUpdate; }
            var container = document.getElementById(ctx.outputs_list.id.table);
            var active = document.activeElement;
            if (!container || !active || !active.id || !container.contains(active)) {
                return noUpdate;
            }
            var id = active.id;
            var observer = new MutationObserver(function () {
                var again = document.getElementById(id);
                if (!again || again === active) { return; }
                observer.disconnect();
                var now = document.activeElement;
                if (now && now !== document.body) { return; }  // the user has moved on
                if (again.disabled && again.parentElement) {
                    again = again.parentElement.querySelector('button:not([disabled])') || again;
                }
                again.focus();
            });
            observer.observe(container, {childList: true, subtree: true});
            window.setTimeout(function () { observer.disconnect(); }, 30000);
            return noUpdate;
        }
    }
});
