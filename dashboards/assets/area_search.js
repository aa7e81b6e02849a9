/*
 * "Mein Stadtteil" (dashboards/components/area.py, issue #19): typing on the start page
 * goes into the search at once. A printable key pressed while no field has the focus
 * moves the focus to the search field, and the character lands there. No autofocus: the
 * first Tab still reaches the skip link, and a screen reader starts at the top.
 */
document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key.length !== 1 || event.key === ' ') { return; }  // not Space: it scrolls
    var active = document.activeElement;
    var tag = active ? active.tagName : '';
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || tag === 'BUTTON' ||
        (active && active.isContentEditable)) { return; }
    if (active && active.closest && active.closest('[role="listbox"], [role="menu"]')) { return; }
    var field = document.querySelector('.area-search-typeahead input, input.area-search-typeahead');
    if (field && field.offsetParent !== null) { field.focus(); }
});
