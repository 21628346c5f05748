// Behaviour every page shares, without inline handlers (the Content-Security-Policy allows
// scripts from this server only): a select that submits its form when changed, and a form that
// asks before it is sent.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLElement && field.hasAttribute("data-autosubmit") && field.form) {
    field.form.submit();
  }
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// --- the compact header's menu and the officers' bottom bar (base.html) ---
// One menu (#site-nav) opened by the header's メニュー, the bottom bar's メニュー or closed by
// 閉じる / Escape. Wide screens show it inline and never toggle it.
(function () {
  "use strict";
  function setOpen(open) {
    document.body.classList.toggle("nav-open", open);
    document.querySelectorAll("[data-menu-toggle]").forEach(function (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    if (open) {
      var first = document.querySelector("#site-nav a");
      if (first) first.focus();
    }
  }
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-menu-toggle]") : null;
    if (target) {
      setOpen(!document.body.classList.contains("nav-open"));
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("nav-open")) setOpen(false);
  });
  // The page the officer is on, marked in the menu and the bottom bar.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".site-nav a, .bottom-bar a").forEach(function (link) {
      if (link instanceof HTMLAnchorElement && link.pathname === window.location.pathname) {
        link.setAttribute("aria-current", "page");
      }
    });
    openTarget();
  });

  // A folded group of a list (<details>) opens when its index link is followed or when the
  // address names a row inside it (次の世帯 after a record).
  function openTarget() {
    var id = window.location.hash.slice(1);
    var el = id ? document.getElementById(id) : null;
    var details = el ? el.closest("details") : null;
    if (details && !details.open) {
      details.open = true;
      el.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", openTarget);
})();
