// Idle sign-out: a banner a minute before the server ends an idle session (accounts.middleware), with a
// way to stay. Polling requests are marked as background so that a page left open does not count as use.
(function () {
  "use strict";

  var script = document.currentScript;
  var idleSeconds = Number(script && script.dataset.idleSeconds);
  var keepaliveUrl = script && script.dataset.keepaliveUrl;
  if (!idleSeconds || !keepaliveUrl) return;
  var BACKGROUND = "X-Concord-Background";
  var timers = [];
  var banner = null;

  function hideBanner() {
    if (banner) banner.remove();
    banner = null;
  }

  function showBanner(text, withButton) {
    hideBanner();
    banner = document.createElement("div");
    banner.className = "message warning";
    banner.setAttribute("role", "alert");
    banner.dataset.testid = "idle-warning";
    // Set through the CSSOM, which a Content-Security-Policy without 'unsafe-inline' allows.
    banner.style.position = "fixed";
    banner.style.bottom = "1rem";
    banner.style.left = "50%";
    banner.style.transform = "translateX(-50%)";
    banner.style.zIndex = "1000";
    banner.appendChild(document.createTextNode(text + " "));
    if (withButton) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Stay signed in";
      button.addEventListener("click", stay);
      banner.appendChild(button);
    }
    document.body.appendChild(banner);
  }

  function restart() {
    timers.forEach(clearTimeout);
    hideBanner();
    timers = [
      setTimeout(function () {
        showBanner("You will be signed out in a minute for inactivity.", true);
      }, Math.max(0, idleSeconds - 60) * 1000),
      setTimeout(function () {
        showBanner("You were signed out for inactivity. Reload the page to sign in again.", false);
      }, idleSeconds * 1000),
    ];
  }

  function stay() {
    fetch(keepaliveUrl, { credentials: "same-origin" }).then(function (response) {
      if (response.ok) restart();
    });
  }

  // A request with no triggering event is a poll ("every 1s") or a load: not the person using the page.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.triggeringEvent) event.detail.headers[BACKGROUND] = "1";
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig;
    if (!(config && config.headers && config.headers[BACKGROUND] === "1")) restart();
  });
  restart();
})();
