// Junkai's offline app (issue 18): the router, taking the beat in, sync and the wipe.
// The pages draw from the encrypted store (store.js); nothing personal is in the shell.
"use strict";

import * as store from "./store.js";
import * as views from "./views.js";

const { h, jdate } = views;
const cfg = document.body.dataset;
const API = "/api/v1";
const main = document.getElementById("app");
let flashText = ""; // a message, or a list of text and links
let syncing = null;

class SignedOut extends Error {}
class Gone extends Error {}
class ApiError extends Error {
  constructor(status, data) {
    super((data && data.detail) || `エラー（${status}）`);
    this.status = status;
    this.data = data;
  }
}

function flash(text) { flashText = text; }

// --- the network ---------------------------------------------------------------------------

async function session() {
  let response;
  try {
    response = await fetch(cfg.session, { credentials: "same-origin", redirect: "manual", cache: "no-store" });
  } catch (error) {
    throw new TypeError("オフラインです");
  }
  if (response.type === "opaqueredirect" || !response.ok) throw new SignedOut("サインインしてください");
  return response.json();
}

async function api(method, path, body, csrf) {
  const token = csrf || (await session()).csrf;
  const response = await fetch(API + path, {
    method, credentials: "same-origin", cache: "no-store",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": token },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (response.status === 410) {
    // Returned or revoked: the server also sent Clear-Site-Data for a revoked device; the
    // app deletes what it holds in any case.
    await store.wipe();
    throw new Gone((data && data.detail) || "この持出しは終わりました。端末内のデータを消去しました");
  }
  if (response.status === 401) throw new SignedOut("サインインしてください");
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function explain(error) {
  if (error instanceof SignedOut) return "サインインが必要です（サインインしてから、もう一度行ってください）。";
  if (error instanceof TypeError) return "ネットワークにつながりません。つながる場所で、もう一度行ってください。";
  if (error instanceof store.LeaseEnded) return error.message;
  if (error instanceof ApiError && error.data && error.data.errors) {
    const details = Object.values(error.data.errors).flat();
    return [error.message, ...details].join(" ");
  }
  return error.message || String(error);
}

// --- taking the beat in, sync, return ---------------------------------------------------------

async function persistent() {
  if (!navigator.storage || !navigator.storage.persist) return false;
  return (await navigator.storage.persisted()) || navigator.storage.persist();
}

/** The checkout is confirmed out: lease the key and pull the beat (timed, for bench/offline.py). */
async function takeIn() {
  const checkout = await store.get("meta", "checkout");
  if (!(await persistent())) {
    throw new Error("このブラウザが永続的な保存を許可しないため、受持区を端末に取り込めません。");
  }
  const started = performance.now();
  const { csrf } = await session();
  const state = await api("GET", `/device-checkouts/${checkout.id}`, undefined, csrf);
  if (!state.syncable) throw new Error("持出確認者の確認がまだです。持出確認簿で確認を受けてください。");
  await store.acceptLease(await api("POST", `/device-checkouts/${checkout.id}/lease`, {}, csrf));
  const data = await api("GET", `/sync/pull?checkout=${checkout.id}`, undefined, csrf);
  await store.storePull(data, { taken_in_at: Date.now() });
  const took = Math.round(performance.now() - started);
  document.body.dataset.takeInMs = String(took);
  return `受持区 ${data.beat.name} の ${data.household_ids.length}世帯を端末に取り込みました（${(took / 1000).toFixed(1)}秒）。`;
}

async function renewLease() {
  const checkout = await store.get("meta", "checkout");
  await store.acceptLease(await api("POST", `/device-checkouts/${checkout.id}/lease`, {}));
  return "鍵を受け取りました。端末のデータを読めます。";
}

/** Send the outbox in order (each change once by its client id) with the read log, then pull
 * what changed. A tab closed mid-way sends the unsettled changes again: the server answers their
 * stored results. One sync at a time: in this tab the running one is shared, across tabs a Web
 * Lock holds the others back (`ifAvailable`: skip rather than wait, for the automatic one). */
function sync({ ifAvailable = false } = {}) {
  if (syncing) return syncing;
  syncing = (async () => {
    if (!navigator.locks) return syncOnce();
    return navigator.locks.request("junkai-offline-sync", { ifAvailable }, (lock) => (lock ? syncOnce() : null));
  })().finally(() => { syncing = null; });
  return syncing;
}

async function syncOnce() {
  const checkout = await store.get("meta", "checkout");
  const { csrf } = await session();
  const lease = await store.leaseInfo();
  if (!lease || !lease.valid) {
    // Signed in again after the lease ended: the same data key, re-wrapped, reads the
    // outbox again (nothing queued is lost to an expired lease).
    await store.acceptLease(await api("POST", `/device-checkouts/${checkout.id}/lease`, {}, csrf));
  }
  let sent = 0;
  for (;;) {
    const pending = (await store.outbox()).filter((c) => c.state === "pending").slice(0, 200);
    const reads = (await store.getAll("reads")).sort((a, b) => a.seq - b.seq).slice(0, 1000);
    if (!pending.length && !reads.length) break;
    const changes = await Promise.all(pending.map(async (c) => ({
      client_id: c.client_id, kind: c.kind, household_id: c.household_id, ...(await store.changeBody(c)),
    })));
    const read_log = reads.map(({ seq, household_id, read_at, purpose, prev, hash }) => ({ seq, household_id, read_at, purpose, prev, hash }));
    const answer = await api("POST", "/sync/push", { checkout_id: checkout.id, changes, read_log }, csrf);
    await store.settle(answer.results, reads.map((r) => r.seq));
    sent += pending.length;
    if (pending.length < 200 && reads.length < 1000) break;
  }
  const data = await api("GET", `/sync/pull?checkout=${checkout.id}&cursor=${encodeURIComponent(checkout.cursor || "")}`, undefined, csrf);
  await store.storePull(data, { synced_at: Date.now() });
  const all = await store.outbox();
  const problems = all.filter((c) => c.state === "conflict" || c.state === "refused").length;
  return `同期しました（送信 ${sent}件${problems ? `、要確認 ${problems}件` : ""}）。`;
}

/** Sync by itself when the network comes back (the browser's `online` event) and when the app
 * opens with changes waiting — only with a beat taken in, a valid lease and something in the
 * outbox. It shows what the button shows; a page with a form on it is not drawn again (what the
 * officer is typing stays), the message goes above it. */
let autoSyncing = false;

async function autoSync() {
  if (!navigator.onLine || syncing || autoSyncing || document.body.dataset.busy) return;
  autoSyncing = true;
  try {
    await autoSyncOnce();
  } finally {
    autoSyncing = false;
  }
}

async function autoSyncOnce() {
  let waiting = 0;
  try {
    const checkout = await store.get("meta", "checkout");
    const lease = await store.leaseInfo();
    if (!checkout || !checkout.pulled_at || !lease || !lease.valid) return;
    waiting = (await store.outbox()).filter((c) => c.state === "pending").length;
  } catch (error) {
    return;
  }
  if (!waiting) return;
  let message;
  let kind = "success";
  try {
    message = await sync({ ifAvailable: true });
    if (message === null) return; // another tab is syncing
  } catch (error) {
    if (error instanceof TypeError) return; // the link is up but the server is not: stay quiet
    message = explain(error);
    kind = "error";
    if (error instanceof Gone) { flashText = ""; await render(); }
  }
  const hash = location.hash || "#/";
  if (kind === "success" && (hash === "#/" || hash === "#/outbox")) {
    flashText = message;
    await render();
  } else {
    main.querySelectorAll("[data-flash], [data-error]").forEach((el) => el.remove());
    main.prepend(kind === "success"
      ? h("div", { class: "alert success", role: "status", "data-flash": true, "data-auto-sync": true }, message)
      : h("div", { class: "alert error", role: "alert", "data-error": true, "data-auto-sync": true }, message));
    await counts();
  }
  netState();
}

async function giveBack() {
  await sync();
  const left = (await store.outbox()).filter((c) => c.state === "pending").length;
  if (left) throw new Error(`送信待ちが${left}件あります。同期してから返却してください。`);
  const checkout = await store.get("meta", "checkout");
  await api("POST", `/device-checkouts/${checkout.id}/return`, {});
  await store.wipe();
  return ["返却を記録し、端末内のデータを消去しました。返却確認者の確認を受けてください。 ",
    checkout.register_url ? h("a", { class: "button secondary", href: checkout.register_url, "data-register": true }, "持出確認簿で返却確認を受ける") : "（持出確認簿）"];
}

// --- pages -----------------------------------------------------------------------------------

async function home() {
  const checkout = await store.get("meta", "checkout");
  if (!checkout) {
    return [h("h1", {}, "端末"), h("p", {}, "この端末に持ち出している受持区はありません。"),
      h("div", { class: "actions" }, h("a", { class: "button", href: cfg.takeOut }, "受持区を端末に持ち出す（要ネットワーク）"),
        h("a", { class: "button secondary", href: cfg.home }, "通常の画面へ"))];
  }
  const lease = await store.leaseInfo();
  const pending = (await store.outbox()).filter((c) => c.state === "pending").length;
  const facts = h("dl", { class: "facts" },
    h("dt", {}, "端末"), h("dd", {}, checkout.device_label || "―"),
    h("dt", {}, "受持区"), h("dd", {}, checkout.beat_name || (checkout.beat && checkout.beat.name) || "―"),
    h("dt", {}, "世帯"), h("dd", {}, checkout.household_count != null ? `${checkout.household_count}世帯` : "未取込"),
    h("dt", {}, "鍵の期限"), h("dd", { "data-lease": lease ? (lease.valid ? "valid" : "ended") : "none" }, lease ? jdate(lease.expires, true) : "―"),
    h("dt", {}, "送信待ち"), h("dd", {}, `${pending}件`),
    h("dt", {}, "最終同期"), h("dd", {}, checkout.synced_at ? jdate(checkout.synced_at, true) : checkout.pulled_at ? jdate(checkout.pulled_at, true) : "―"));
  const act = (label, fn, cls) => h("button", { type: "button", class: cls || "", onclick: () => run(fn) }, label);
  if (!checkout.pulled_at) {
    return [h("h1", {}, "受持区の取込み"), facts,
      h("p", {}, "持出確認者の確認（持出確認簿）を受けてから、受持区を端末に取り込みます。"),
      h("div", { class: "actions" }, act("受持区を取り込む", takeIn),
        checkout.register_url ? h("a", { class: "button secondary", href: checkout.register_url }, "持出確認簿を開く") : null)];
  }
  if (!lease || !lease.valid) {
    if (lease) await store.dataKey().catch(() => {});
    return [h("h1", {}, "鍵の貸与が終わりました"), facts,
      h("div", { class: "alert error", role: "alert" }, "端末のデータは暗号化されたままで、読むことができません。サインインしてから鍵を受け取ってください（送信待ちの記録は失われません）。"),
      h("div", { class: "actions" }, act("鍵を受け取る", renewLease), h("a", { class: "button secondary", href: `${cfg.login}?next=${encodeURIComponent(cfg.scope)}` }, "サインイン"))];
  }
  return [h("h1", {}, "端末"), facts,
    h("div", { class: "actions" }, h("a", { class: "button", href: "#/worklist" }, "巡回予定"),
      act("同期する", sync, "secondary"), act("返却する（同期して消去）", giveBack, "secondary"))];
}

const ROUTES = [
  [/^#?\/?$/, () => home()],
  [/^#\/worklist$/, () => views.worklist()],
  [/^#\/households$/, () => views.households()],
  [/^#\/map$/, () => views.map()],
  [/^#\/outbox$/, () => views.outbox({ sync: () => run(sync) })],
  [/^#\/h\/(\d+)$/, (m) => views.household(Number(m[1]))],
  [/^#\/h\/(\d+)\/visit$/, (m) => views.visitForm(Number(m[1]), { flash })],
  [/^#\/h\/(\d+)\/card$/, (m) => views.cardForm(Number(m[1]), { flash })],
];

let renders = 0;

async function render() {
  // Pages draw from async reads: only the latest render draws (an earlier one finishing last
  // would overwrite it), and the message waits for the render that draws.
  const mine = ++renders;
  const hash = location.hash || "#/";
  delete document.body.dataset.rendered;
  let content;
  try {
    const checkout = await store.get("meta", "checkout");
    const needsBeat = hash !== "#/" && hash !== "";
    if (needsBeat && (!checkout || !checkout.pulled_at)) {
      content = [h("p", {}, "端末に受持区がありません。"), h("a", { href: "#/" }, "端末の画面へ")];
    } else {
      const route = ROUTES.find(([pattern]) => pattern.test(hash));
      content = route ? await route[1](hash.match(route[0])) : [h("h1", {}, "見つかりません")];
    }
  } catch (error) {
    if (error instanceof store.LeaseEnded) {
      location.hash = "#/";
      return;
    }
    content = [h("div", { class: "alert error", role: "alert" }, explain(error))];
  }
  if (mine !== renders) return;
  const notice = flashText ? h("div", { class: "alert success", role: "status", "data-flash": true }, flashText) : null;
  flashText = "";
  main.replaceChildren(...[notice, content].flat(Infinity).filter(Boolean));
  views.mountAll();
  await counts();
  window.scrollTo(0, 0);
  document.body.dataset.rendered = hash;
}

async function run(fn) {
  const buttons = main.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  document.body.dataset.busy = "1";
  try {
    flashText = await fn();
  } catch (error) {
    flashText = "";
    await render();
    main.prepend(h("div", { class: "alert error", role: "alert", "data-error": true }, explain(error)));
    delete document.body.dataset.busy;
    netState();
    return;
  }
  await render();
  delete document.body.dataset.busy;
  netState();
}

async function counts() {
  const badge = document.querySelector("[data-outbox-count]");
  const pending = (await store.outbox().catch(() => [])).filter((c) => c.state === "pending").length;
  badge.hidden = !pending;
  badge.textContent = String(pending);
}

/** Whether the server answers (navigator.onLine only knows about the device's own link). */
async function netState() {
  const el = document.querySelector("[data-net-state]");
  let state = "offline";
  if (navigator.onLine) {
    try {
      const response = await fetch(cfg.session, { credentials: "same-origin", redirect: "manual", cache: "no-store" });
      state = response.type === "opaqueredirect" || !response.ok ? "signed-out" : "online";
    } catch (error) {
      state = "offline";
    }
  }
  el.textContent = { online: "オンライン", offline: "オフライン", "signed-out": "オンライン（要サインイン）" }[state];
  el.classList.toggle("offline", state === "offline");
  el.dataset.netState = state;
}

window.addEventListener("hashchange", render);
window.addEventListener("online", () => { netState(); autoSync(); });
window.addEventListener("offline", netState);
netState();
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(cfg.sw, { scope: cfg.scope }).catch(() => {});
}
render().then(autoSync);
