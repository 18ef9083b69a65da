/*
 * The first paint is server-rendered HTML and CSS; this tiny script is all it runs:
 * - it tells the embedding page the unit's height (postMessage, only to the origin the embed
 *   named in our URL, never "*"), for every unit, live or not;
 * - it loads the live code (the activity's bundle with the Socket.IO client) only once the
 *   unit is in view, or as soon as the person touches it: an ad nobody scrolls to opens no
 *   socket at all. A unit that embed.js saw on screen loads it at once.
 */
(function () {
  'use strict';
  var root = document.documentElement;
  // What embed.js put in our fragment: the page's origin, our frame's number, and whether the
  // slot was on screen when the frame was made.
  var params = new URLSearchParams(location.hash.slice(1));

  (function followHeight() {
    if (window.parent === window || !window.ResizeObserver) return;
    var origin = params.get('o');
    var frame = params.get('f');
    if (!origin) return;
    var last = 0;
    function send() {
      var height = Math.ceil(root.getBoundingClientRect().height);
      if (height === last) return;
      last = height;
      try {
        window.parent.postMessage({ type: 'socialad:height', height: height, frame: frame }, origin);
      } catch (e) {} // an origin the browser cannot parse ("null" on file: pages)
    }
    new ResizeObserver(send).observe(root);
    send();
  })();

  var me = document.currentScript;
  var src = me && me.getAttribute('data-live');
  if (!src) return;
  var loaded = false;
  var events = ['pointerdown', 'keydown', 'focusin', 'touchstart'];
  var observer = null;

  function load() {
    if (loaded) return;
    loaded = true;
    if (observer) observer.disconnect();
    for (var i = 0; i < events.length; i++) document.removeEventListener(events[i], load, true);
    var script = document.createElement('script');
    script.src = src;
    document.head.appendChild(script);
  }

  for (var i = 0; i < events.length; i++) document.addEventListener(events[i], load, true);
  // On screen from the start (embed.js saw the slot in the viewport): no need to wait for the
  // observer's first report, which comes only after the frame's first rendered frame.
  if (params.get('v') === '1' || !('IntersectionObserver' in window)) return load();
  // Inside a cross-origin frame the implicit root is the top page's viewport, clipped by the
  // frame: "in view" means the reader can see the unit.
  observer = new IntersectionObserver(function (entries) {
    for (var j = 0; j < entries.length; j++) if (entries[j].isIntersecting) return load();
  });
  observer.observe(document.body);
})();
