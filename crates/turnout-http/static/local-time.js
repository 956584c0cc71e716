/*
 * Times on Turnout's pages are rendered in each webinar's own zone; a
 * <time datetime="…" data-local> is rewritten in the visitor's zone, with
 * the zone named ("Thursday 3 December, 6:00 pm IST"). Without scripts the
 * organiser's time, which names its zone, stays.
 */
(function () {
  "use strict";
  var format;
  try {
    format = new Intl.DateTimeFormat(undefined, {
      weekday: "long", day: "numeric", month: "long", hour: "numeric", minute: "2-digit", timeZoneName: "short",
    });
  } catch (error) {
    return;
  }
  document.querySelectorAll("time[data-local]").forEach(function (node) {
    var instant = new Date(node.getAttribute("datetime"));
    if (!isNaN(instant.getTime())) node.textContent = format.format(instant);
  });
})();
