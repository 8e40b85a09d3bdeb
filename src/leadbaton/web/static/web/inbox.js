// The rep's inbox, kept current: every few seconds the page is fetched again and its lists replaced.
// A new lead (untouched, not listed before) counts in the title ("(2) Your leads") until the page is looked at,
// and, if the rep allowed it in this browser, shows a notification. Without this script the page is
// whole and current when loaded (web.views.home).
(function () {
  "use strict";

  var EVERY_MS = 4000;
  var PARTS = ["inbox", "queue", "availability"];
  var baseTitle = document.title;
  var unseen = 0;

  // The untouched leads listed: a lead is new to the rep when it first shows up untouched in the whole
  // inbox (a narrowed view gains leads as their time comes, and those are not new).
  function leadIds(root) {
    var ids = {};
    root.querySelectorAll("#inbox tr[data-lead-id][data-untouched]").forEach(function (row) {
      ids[row.getAttribute("data-lead-id")] = row.getAttribute("data-lead-name");
    });
    return ids;
  }

  function narrowed() {
    var inbox = document.getElementById("inbox");
    return Boolean(inbox && inbox.getAttribute("data-narrowed"));
  }

  var known = leadIds(document);

  function showTitle() {
    document.title = unseen ? "(" + unseen + ") " + baseTitle : baseTitle;
  }

  function tell(names) {
    if (!("Notification" in window) || Notification.permission !== "granted") {
      return;
    }
    names.forEach(function (name) {
      new Notification("New lead: " + name, { tag: "leadbaton-" + name });
    });
  }

  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (answer) {
        if (!answer.ok || answer.redirected) {
          throw new Error("not refreshed: " + answer.status);
        }
        return answer.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var now = leadIds(fresh);
        var arrived = narrowed() ? [] : Object.keys(now).filter(function (id) { return !(id in known); });
        PARTS.forEach(function (id) {
          var mine = document.getElementById(id);
          var theirs = fresh.getElementById(id);
          if (mine && theirs) {
            mine.replaceWith(document.importNode(theirs, true));
          }
        });
        known = now;
        if (arrived.length) {
          if (document.visibilityState !== "visible" || !document.hasFocus()) {
            unseen += arrived.length;
            showTitle();
          }
          tell(arrived.map(function (id) { return now[id]; }));
        }
      })
      .catch(function () { /* the next round tries again */ })
      .finally(function () { window.setTimeout(refresh, EVERY_MS); });
  }

  function looked() {
    if (document.visibilityState === "visible") {
      unseen = 0;
      showTitle();
    }
  }

  function start() {
    var ask = document.getElementById("notify-me");
    if (ask && "Notification" in window && Notification.permission === "default") {
      ask.hidden = false;
      ask.addEventListener("click", function () {
        Notification.requestPermission().then(function () { ask.hidden = true; });
      });
    }
    document.addEventListener("visibilitychange", looked);
    window.addEventListener("focus", looked);
    window.setTimeout(refresh, EVERY_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
