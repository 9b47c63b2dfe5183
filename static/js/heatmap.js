// The year heat map is wider than a phone: open it at today's week, not at January.
// Without JavaScript the map still scrolls, from January.
(function () {
  "use strict";
  var wrap = document.querySelector(".heatmap-wrap");
  var today = wrap && wrap.querySelector(".heat.today");
  if (!today || wrap.scrollWidth <= wrap.clientWidth) {
    return;
  }
  // Put today's week near the right edge, with a few weeks of margin after it.
  var week = today.parentElement;
  var right = week.offsetLeft + week.offsetWidth * 4;
  wrap.scrollLeft = Math.max(0, right - wrap.clientWidth);
})();
