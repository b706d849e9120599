// The operator's time zone for the Orders and Returns pages: the browser's zone in the `tz` cookie, which
// the server reads (channel_manager.timezones validates it). A static file, so the Content-Security-Policy
// needs no inline script.
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + ";path=/;max-age=31536000;samesite=lax";
    }
  } catch (e) {}
})();
