// Live countdowns on a page: every element with data-breaches-at (an ISO 8601 time) shows the time
// left until then, updated every second, in the same words the server wrote (web.views.countdown_text).
// On a page marked data-live (the inbox), also those that arrive later.
(function () {
  "use strict";

  function two(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function text(seconds) {
    if (seconds <= 0) {
      return "time is up";
    }
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    if (days) {
      return days + " d " + hours + ":" + two(minutes) + ":" + two(secs) + " left";
    }
    if (hours) {
      return hours + ":" + two(minutes) + ":" + two(secs) + " left";
    }
    return minutes + ":" + two(secs) + " left";
  }

  function update() {
    var now = Date.now();
    document.querySelectorAll("[data-breaches-at]").forEach(function (element) {
      var at = Date.parse(element.getAttribute("data-breaches-at"));
      if (!isNaN(at)) {
        element.textContent = text(Math.max(0, Math.floor((at - now) / 1000)));
      }
    });
  }

  function start() {
    // A page whose lists are replaced as they change (data-live) may gain a countdown later.
    if (document.querySelector("[data-breaches-at], [data-live]")) {
      update();
      window.setInterval(update, 1000);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
