/*
 * Narrow screens (phones, #19): the menu folds behind a "Menü" button below 640 px
 * (style.css), and a table wider than its box says so above it ("Weitere Spalten:
 * seitlich wischen"). Charts are laid out on the server: this script tells it, in the
 * cookie imon_narrow, whether the window is narrower than NARROW px
 * (dashboards/figures/common.py narrow(); exports keep the print layout). It runs before
 * Dash asks for the first figure.
 */
(function () {
    'use strict';
    var NARROW = 600;

    function tell() {
        var narrow = window.innerWidth < NARROW ? '1' : '0';
        if (document.cookie.indexOf('imon_narrow=' + narrow) < 0) {
            document.cookie = 'imon_narrow=' + narrow + '; path=/; SameSite=Lax';
        }
    }
    tell();

    /* A table wider than its box says so above it (style.css: [data-scrolls]). */
    function hint(box) {
        var scrolls = box.scrollWidth > box.clientWidth + 1;
        if (scrolls && !box.hasAttribute('data-scrolls')) {
            box.setAttribute('data-scrolls', '');
            box.setAttribute('data-hint', document.documentElement.lang === 'en'
                ? 'More columns: swipe sideways →' : 'Weitere Spalten: seitlich wischen →');
        } else if (!scrolls && box.hasAttribute('data-scrolls')) {
            box.removeAttribute('data-scrolls');
        }
    }

    function look() {
        document.querySelectorAll('.table-scroll').forEach(hint);
    }

    var pending = null;
    new MutationObserver(function () {
        if (pending === null) {
            pending = window.requestAnimationFrame(function () { pending = null; look(); });
        }
    }).observe(document.documentElement, {childList: true, subtree: true});
    window.addEventListener('resize', function () { tell(); look(); });

    /* The menu button (components/common.py navbar): open and close the folded menu. */
    document.addEventListener('click', function (event) {
        var button = event.target.closest ? event.target.closest('.nav-toggle') : null;
        var bar = document.querySelector('.topbar');
        if (button && bar) {
            var open = !bar.classList.contains('nav-open');
            bar.classList.toggle('nav-open', open);
            button.setAttribute('aria-expanded', String(open));
        } else if (bar && event.target.closest && event.target.closest('.nav-link')) {
            bar.classList.remove('nav-open');  // a page was chosen: fold the menu again
            var toggle = bar.querySelector('.nav-toggle');
            if (toggle) { toggle.setAttribute('aria-expanded', 'false'); }
        }
    });
}());
