// HarborPortal's only script of its own: wiring for htmx. Pages work without it; htmx makes them faster.
(function () {
  'use strict';

  // Every non-GET htmx request carries the antiforgery token the layout put in <meta name="antiforgery-token">.
  document.addEventListener('htmx:configRequest', function (event) {
    var meta = document.querySelector('meta[name="antiforgery-token"]');
    if (meta && event.detail.verb !== 'get') {
      event.detail.headers['RequestVerificationToken'] = meta.getAttribute('content');
    }
  });
})();

// The queue's row checkboxes belong to the bulk-action form (form="findings-bulk"): ticking one must not re-run the
// filter form they sit in (htmx listens for its change events).
document.addEventListener('change', function (event) {
  var target = event.target;
  if (target && target.getAttribute && target.getAttribute('form') === 'findings-bulk') {
    event.stopPropagation();
  }
}, true);
