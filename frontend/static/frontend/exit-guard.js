// After Quick exit, Back must show nothing of Kindred. This is the first script of every page: a
// classic (blocking) script in <head>, so it runs before anything is drawn. If this tab left
// Kindred through Quick exit (quick-exit.js set "kindred:exited") and the page was brought up by
// Back or Forward, it is replaced at once by the neutral page. Any other way of opening Kindred (a
// link, a typed address, a reload) means she chose to come back: the mark is cleared.
(function () {
  "use strict";
  var KEY = "kindred:exited";

  function exitedTo() {
    try {
      var url = window.sessionStorage.getItem(KEY);
      return url && /^https:\/\//.test(url) ? url : "";
    } catch (e) {
      return "";
    }
  }

  function leave(url) {
    document.documentElement.style.display = "none";
    window.location.replace(url);
  }

  function navigationType() {
    try {
      var entry = performance.getEntriesByType("navigation")[0];
      if (entry) return entry.type;
    } catch (e) {
      // old browser: fall back below
    }
    return performance.navigation && performance.navigation.type === 2 ? "back_forward" : "";
  }

  var url = exitedTo();
  if (url) {
    if (navigationType() === "back_forward") leave(url);
    else {
      try {
        window.sessionStorage.removeItem(KEY);
      } catch (e) {
        // nothing stored
      }
    }
  }
  // A page restored from the back/forward cache does not run its scripts again.
  window.addEventListener("pageshow", function (event) {
    var again = exitedTo();
    if (event.persisted && again) leave(again);
  });
})();
