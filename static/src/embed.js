/*
 * socialads embed loader.
 *
 * Publishers paste:
 *   <div class="socialad" data-campaign="CAMPAIGN_ID"></div>
 *   <script async src="BASE/embed.js"></script>
 *
 * Every placeholder becomes an iframe on BASE/w/CAMPAIGN_ID. The iframe reports its content height
 * through postMessage; we only believe messages from BASE's origin that come from one of our frames.
 * Plain ES2017, no imports: this file ships as-is (minified) and must stay tiny.
 */
(function () {
  'use strict';

  // Loaded twice (two snippets on one page)? The first copy does the work.
  if (window.socialads && window.socialads.init) {
    window.socialads.init();
    return;
  }

  var script = document.currentScript;
  if (!script) {
    var candidates = document.querySelectorAll('script[src*="/embed.js"]');
    script = candidates[candidates.length - 1];
  }
  if (!script) return;

  var src = new URL(script.src, location.href);
  var ORIGIN = src.origin;
  // Everything before "/embed.js", so a server mounted under a path prefix still works.
  var BASE = ORIGIN + src.pathname.replace(/\/embed\.js$/, '');
  var TOKEN = /^[A-Za-z0-9_-]{16,64}$/;
  var frames = [];

  // An invite link lands on the publisher's page as #socialad=TOKEN or ?socialad=TOKEN.
  function sessionToken() {
    var sources = [location.hash.slice(1), location.search.slice(1)];
    for (var i = 0; i < sources.length; i++) {
      var token = new URLSearchParams(sources[i]).get('socialad');
      if (token && TOKEN.test(token)) return token;
    }
    return null;
  }

  // Whether the slot is in the viewport now: a unit on screen goes live without waiting for its
  // frame's first IntersectionObserver report (one frame of rendering later, in a renderer
  // that is just starting). Only a head start: the unit does the same once it sees itself.
  // Not inside another frame, whose viewport may itself be off screen.
  function onScreen(slot) {
    if (window.top !== window || document.visibilityState === 'hidden') return false;
    var box = slot.getBoundingClientRect();
    return box.bottom > 0 && box.right > 0 && box.top < innerHeight && box.left < innerWidth;
  }

  function init() {
    var token = sessionToken();
    var slots = document.querySelectorAll('div.socialad[data-campaign]:not([data-socialad-ready])');
    var seen = []; // measured before any frame goes in: one layout, not one per frame
    for (var j = 0; j < slots.length; j++) seen.push(onScreen(slots[j]));
    for (var i = 0; i < slots.length; i++) {
      var slot = slots[i];
      var id = slot.getAttribute('data-campaign');
      slot.setAttribute('data-socialad-ready', '');
      if (!id) continue;
      var frameId = String(frames.length + 1);
      var frame = document.createElement('iframe');
      frame.src = BASE + '/w/' + encodeURIComponent(id) +
        (token ? '?session=' + encodeURIComponent(token) : '') +
        '#o=' + encodeURIComponent(location.origin) + '&f=' + frameId +
        (seen[i] ? '&v=1' : '');
      frame.title = 'Sponsored: live cause activity';
      frame.width = '100%';
      frame.height = '460';
      frame.setAttribute('allow', 'clipboard-write; web-share');
      frame.setAttribute('referrerpolicy', 'strict-origin-when-cross-origin');
      frame.setAttribute('data-socialad-frame', frameId);
      frame.style.cssText = 'display:block;width:100%;height:460px;border:0;overflow:hidden';
      frames.push(frame);
      slot.appendChild(frame);
    }
  }

  window.addEventListener('message', function (event) {
    var data = event.data;
    if (event.origin !== ORIGIN || !data || data.type !== 'socialad:height') return;
    var height = data.height;
    if (typeof height !== 'number' || !isFinite(height)) return;
    height = Math.min(2000, Math.max(80, Math.round(height)));
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = height + 'px';
        return;
      }
    }
  });

  window.socialads = { init: init };
  init();
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  }
})();
