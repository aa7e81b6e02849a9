// "Teilen und zitieren" in the footer (#19, components/common.share): the citation names
// the current page and its address (pages keep their choices in the URL), filled in when
// the box is opened; "Link kopieren" copies that address. Dash changes pages without
// drawing the footer again, so both are read at the moment of use.
(function () {
  function fill(box) {
    var page = (document.querySelector('#main h1') || {}).textContent || document.title;
    var lang = document.documentElement.lang === 'en' ? 'en-GB' : 'de-DE';
    var today = new Date().toLocaleDateString(lang, {day: '2-digit', month: '2-digit', year: 'numeric'});
    box.querySelectorAll('.share-page').forEach(function (e) { e.textContent = page.trim(); });
    box.querySelectorAll('.share-url').forEach(function (e) { e.textContent = location.href; });
    box.querySelectorAll('.share-today').forEach(function (e) { e.textContent = today; });
    // pages whose chart can be embedded (dashboards/embed.py: same query, /embed/<page>)
    var embed = document.getElementById('share-embed');
    var match = location.pathname.match(/^(.*\/)(karte|zeitreihen|profil)$/);
    if (embed) {
      embed.hidden = !match;
      if (match) {
        var src = location.origin + match[1] + 'embed/' + match[2] + location.search;
        var title = embed.dataset.title.replace(/"/g, '&quot;');
        embed.querySelector('.share-embed-code').textContent =
          '<iframe src="' + src.replace(/"/g, '%22') + '" title="' + title +
          '" width="100%" height="640" style="border:0" loading="lazy"></iframe>';
      }
    }
  }
  function say(button, text) {
    var status = document.getElementById('share-status');
    if (status) status.textContent = text;
  }
  function copy(button) {
    var url = location.href;
    function fallback() {  // no Clipboard API (an address without https)
      var field = document.createElement('textarea');
      field.value = url;
      field.setAttribute('readonly', '');
      field.style.position = 'fixed';
      field.style.opacity = '0';
      document.body.appendChild(field);
      field.select();
      var done = false;
      try { done = document.execCommand('copy'); } catch (e) { done = false; }
      document.body.removeChild(field);
      say(button, done ? button.dataset.done : button.dataset.failed);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(
        function () { say(button, button.dataset.done); }, fallback);
    } else {
      fallback();
    }
  }
  document.addEventListener('toggle', function (event) {
    if (event.target.id === 'share' && event.target.open) fill(event.target);
  }, true);
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('#share-copy');
    if (!button) return;
    fill(document.getElementById('share'));
    copy(button);
  });
})();
