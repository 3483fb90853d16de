// Ponte console: the only script. Adds new events to the first page of Eventos by polling.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var rows = document.getElementById("event-rows");
  if (!live || !rows) { return; }
  var after = live.getAttribute("data-after") || "0";
  var query = live.getAttribute("data-query") || "";
  function poll() {
    var url = "/ui/eventos/novos?after=" + encodeURIComponent(after) + (query ? "&" + query : "");
    fetch(url, {headers: {"X-Requested-With": "ponte"}, credentials: "same-origin"})
      .then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        after = r.headers.get("X-Ponte-Newest") || after;
        if (r.headers.get("X-Ponte-More") === "1") { document.getElementById("more").hidden = false; }
        return r.text();
      })
      .then(function (html) {
        if (html.trim()) { rows.insertAdjacentHTML("afterbegin", html); }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  }
  window.setTimeout(poll, 2000);
})();
