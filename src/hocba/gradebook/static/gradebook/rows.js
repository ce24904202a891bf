/* Row autosave for the homeroom pages: each row is a small form (inputs joined to it by form="…"); a
 * change posts the row and the server answers with the row's HTML (saved, or refused with the reason). */
(function () {
  "use strict";
  var table = document.getElementById("homeroom-grid");
  if (!table) return;

  function save(form) {
    var row = document.getElementById("hs-" + form.id.slice(2));
    var status = row && row.querySelector(".row-status");
    if (status) status.textContent = "Đang lưu…";
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"X-Requested-With": "fetch"}})
      .then(function (resp) { return resp.text(); })
      .then(function (html) {
        var holder = document.createElement("tbody");
        holder.innerHTML = html.trim();
        var fresh = holder.querySelector("tr");
        if (fresh && row) row.replaceWith(fresh);
      })
      .catch(function () { if (status) status.textContent = "Chưa lưu: mất kết nối với máy chủ."; });
  }

  table.addEventListener("change", function (e) {
    var id = e.target.getAttribute("form");
    var form = id && document.getElementById(id);
    if (form && form.hasAttribute("data-row-form")) save(form);
  });
  document.addEventListener("submit", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-row-form")) {
      e.preventDefault();
      save(e.target);
    }
  });
})();
