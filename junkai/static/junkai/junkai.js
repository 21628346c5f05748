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
// ===== layout (issue 17): error summary, fields shown for one choice, rows added and removed.
// Each is an enhancement: without this script the summary still lists and links every wrong
// field, the conditional field is simply always shown, and a form keeps its one blank row.
document.addEventListener("DOMContentLoaded", () => {
  // The summary of a refused form takes the focus, so a screen reader reads it and the page
  // shows it first; each link then moves the focus to its field.
  const summary = document.querySelector("[data-error-summary]");
  if (summary instanceof HTMLElement) {
    summary.focus();
  }
  for (const hidden of document.querySelectorAll("[data-js-only]")) {
    hidden.hidden = false;
  }
  for (const box of document.querySelectorAll("[data-shown-when]")) {
    showWhenChosen(box);
  }
});

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const link = target?.closest("[data-error-summary] a[href^='#']");
  if (link) {
    const field = document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.closest("details")?.setAttribute("open", "");
      field.scrollIntoView({ block: "center" });
      field.focus();
    }
    return;
  }
  const add = target?.closest("[data-formset-add]");
  if (add) {
    addFormsetRow(add.dataset.formsetAdd);
    return;
  }
  const remove = target?.closest("[data-formset-remove]");
  if (remove) {
    // A row left blank is not saved (the card's rules skip empty rows): clearing it removes it.
    const row = remove.closest("[data-formset-row]");
    for (const field of row.querySelectorAll("input, select, textarea")) {
      if (field.type === "checkbox" || field.type === "radio") field.checked = false;
      else if (field.type !== "hidden") field.value = "";
    }
    row.hidden = true;
    row.closest("[data-formset]")?.querySelector("[data-formset-add]")?.focus();
  }
});

document.addEventListener("change", (event) => {
  const field = event.target;
  if (!(field instanceof HTMLInputElement) || !field.name) return;
  for (const box of document.querySelectorAll(`[data-shown-when^="${field.name}="]`)) {
    showWhenChosen(box);
  }
});

function showWhenChosen(box) {
  // data-shown-when="outcome=REFUSED": shown while that choice is checked, or while it holds
  // an error or a value the officer typed.
  const [name, value] = box.dataset.shownWhen.split("=");
  const chosen = document.querySelector(`input[name="${name}"]:checked`);
  const filled = [...box.querySelectorAll("textarea, input")].some((f) => f.value.trim());
  box.hidden = !(chosen?.value === value || filled || box.querySelector(".errorlist"));
}

function addFormsetRow(prefix) {
  const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
  const template = document.getElementById(`${prefix}-empty`);
  const rows = document.querySelector(`[data-formset="${prefix}"] [data-formset-rows]`);
  if (!total || !template || !rows) return;
  const index = Number(total.value);
  const html = template.innerHTML.replaceAll("__prefix__", String(index)).replaceAll("__number__", String(index + 1));
  rows.insertAdjacentHTML("beforeend", html);
  total.value = String(index + 1);
  const row = rows.lastElementChild;
  for (const hidden of row.querySelectorAll("[data-js-only]")) hidden.hidden = false;
  row.querySelector("input, select, textarea")?.focus();
}

// A long table of a dashboard (<details data-fold-narrow open>) opens folded on a phone, so the
// summaries above it come first; without this script it simply stays open.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.matchMedia("(max-width: 700px)").matches) return;
  const target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
  for (const details of document.querySelectorAll("details[data-fold-narrow]")) {
    if (!(target && details.contains(target))) details.open = false;
  }
});

// A date-time field (the browser's picker writes 西暦) says its value in 和暦 beneath it, kept
// up to date as the officer changes it. The era comes from the browser's own Japanese calendar.
(function () {
  "use strict";
  var format = null;
  try {
    format = new Intl.DateTimeFormat("ja-JP-u-ca-japanese", {
      era: "long", year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
  } catch (error) {
    return; // no Japanese calendar here: the server's text stays
  }
  function wareki(value) {
    var when = value ? new Date(value) : null;
    if (!when || isNaN(when.getTime())) return "";
    var parts = {};
    format.formatToParts(when).forEach(function (part) {
      parts[part.type] = part.value;
    });
    var year = parts.year === "1" ? "元" : parts.year;
    return parts.era + year + "年" + parts.month + "月" + parts.day + "日 " + parts.hour + ":" + parts.minute;
  }
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!(field instanceof HTMLInputElement) || field.type !== "datetime-local") return;
    var echo = document.querySelector('[data-wareki-of="' + field.id + '"]');
    if (echo) echo.textContent = wareki(field.value);
  });
})();
