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

/*
 * Table buttons (dashboards/components/tables.py): a header or pager button carries the sort and page
 * state it asks for; a click stores it in the table's state store, and the server redraws
 * the table.
 */
document.addEventListener('click', function (event) {
    var button = event.target.closest ? event.target.closest('button[data-table]') : null;
    var clientside = window.dash_clientside || {};
    if (!button || button.disabled || !clientside.set_props) { return; }
    var table = button.getAttribute('data-table');
    var container = document.getElementById(table);
    if (container && document.activeElement === button) {
        keepFocus(container, button.getAttribute('data-key'));
    }
    clientside.set_props(table + '-sort', {
        data: JSON.parse(button.getAttribute('data-state'))
    });
});

/*
 * A redrawn table has new buttons, so the focus would fall back to <body>, whatever the
 * redraw's cause (the button pressed, new data, the page's first callbacks): while a table
 * button has the focus, its successor takes it over (a pager button now disabled hands it
 * to the other one). One watch per table; it ends when the focus moves elsewhere.
 */
document.addEventListener('focusin', function (event) {
    var button = event.target.closest ? event.target.closest('button[data-table]') : null;
    var container = button && document.getElementById(button.getAttribute('data-table'));
    if (container) { keepFocus(container, button.getAttribute('data-key')); }
});

document.addEventListener('focusout', function (event) {
    var button = event.target.closest ? event.target.closest('button[data-table]') : null;
    var container = button && document.getElementById(button.getAttribute('data-table'));
    if (!container) { return; }
    window.setTimeout(function () {  // a button still in the page: the user has moved on
        var watch = container.imonFocusWatch;
        if (watch && button.isConnected && !container.contains(document.activeElement)) {
            watch.disconnect();
            container.imonFocusWatch = null;
        }
    }, 0);
});

function keepFocus(container, key) {
    var selector = 'button[data-key="' + key + '"]';
    if (container.imonFocusWatch) { container.imonFocusWatch.disconnect(); }
    var observer = new MutationObserver(function () {
        var now = document.activeElement;
        if (now && now !== document.body) { return; }  // still focused, or the user moved on
        var again = container.querySelector(selector);
        if (!again) { return; }
        if (again.disabled && again.parentElement) {
            again = again.parentElement.querySelector('button:not([disabled])') || again;
        }
        again.focus();  // focusin: a new watch for the new button
    });
    observer.observe(container, {childList: true, subtree: true});
    container.imonFocusWatch = observer;
}
