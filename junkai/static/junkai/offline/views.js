// The offline app's pages, drawn from the device's store. Text goes in as text (never as
// HTML): names and notes come from residents.
"use strict";

import * as store from "./store.js";
import { visitErrors, approvalFor, isNight } from "./rules.js";

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const wareki = new Intl.DateTimeFormat("ja-JP-u-ca-japanese", { era: "long", year: "numeric", month: "long", day: "numeric", timeZone: "Asia/Tokyo" });
const warekiTime = new Intl.DateTimeFormat("ja-JP-u-ca-japanese", { era: "long", year: "numeric", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo" });

/** 令和8年4月1日 for a date ("2026-04-01") or a moment. */
export function jdate(value, withTime = false) {
  if (!value) return "―";
  const date = typeof value === "string" && value.length === 10 ? new Date(`${value}T00:00:00+09:00`) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return (withTime ? warekiTime : wareki).format(date);
}

export const PRIORITY = { HIGH: "優先", NORMAL: "通常", LOW: "低" };
export const CATEGORY = { UNKNOWN: "未把握", ELDERLY: "高齢者世帯", HOME: "家庭", BUSINESS: "事業所等" };
const STATE = { pending: "送信待ち", done: "反映済み", conflict: "競合（両方の版を保存）", refused: "受け付けられず" };

function addressLine(hh) {
  return [hh.address || [hh.town, hh.chome && `${hh.chome}丁目`, hh.banchi, hh.go].filter(Boolean).join(" "),
    hh.room ? ` ${hh.room}` : ""].join("");
}

function groupKey(hh) {
  return [hh.town || "（町名なし）", hh.block_group || ""].filter(Boolean).join(" ・ ");
}

function byAddress(a, b) {
  return (a.town || "").localeCompare(b.town || "", "ja") || (a.block_group || "").localeCompare(b.block_group || "", "ja")
    || String(a.map_number || "").localeCompare(String(b.map_number || ""), "ja", { numeric: true }) || a.id - b.id;
}

function householdRow(hh, extra) {
  return h("li", { class: "hh-row", "data-household": hh.id },
    h("a", { href: `#/h/${hh.id}`, class: "hh-main" },
      h("strong", {}, hh.name || "（名称なし）"), h("span", { class: "muted" }, addressLine(hh))),
    extra || null,
    h("a", { class: "button small", href: `#/h/${hh.id}/visit` }, "記録"));
}

function grouped(rows, extraFor) {
  const groups = new Map();
  rows.forEach((hh) => {
    const key = groupKey(hh);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(hh);
  });
  return [...groups].map(([key, items]) => h("section", { class: "card group" },
    h("h2", {}, key, " ", h("span", { class: "badge" }, `${items.length}件`)),
    h("ul", { class: "hh-list" }, items.map((hh) => householdRow(hh, extraFor && extraFor(hh))))));
}

// --- pages -----------------------------------------------------------------------------------

export async function worklist() {
  const [items, all, changes] = await Promise.all([store.list("worklist"), store.households(), store.outbox()]);
  const queued = new Set(changes.filter((c) => c.kind === "visit" && c.state === "pending").map((c) => c.household_id));
  const byId = new Map(all.map((hh) => [hh.id, hh]));
  const due = new Map(items.map((w) => [w.household_id, w]));
  const rows = items.map((w) => byId.get(w.household_id)).filter(Boolean);
  const rank = { HIGH: 0, NORMAL: 1, LOW: 2 };
  rows.sort((a, b) => groupKey(a).localeCompare(groupKey(b), "ja")
    || rank[due.get(a.id).priority] - rank[due.get(b.id).priority]
    || String(due.get(a.id).due_date).localeCompare(String(due.get(b.id).due_date)));
  return [
    h("h1", {}, "巡回予定", " ", h("span", { class: "badge" }, `${rows.length}件`)),
    rows.length ? grouped(rows, (hh) => {
      const w = due.get(hh.id);
      return h("span", { class: "hh-due" },
        w.priority === "HIGH" ? h("span", { class: "badge warn" }, PRIORITY.HIGH) : null,
        queued.has(hh.id) ? h("span", { class: "badge ok" }, "記録済（送信待ち）") : null,
        h("span", { class: "muted" }, `期限 ${jdate(w.due_date)}`));
    }) : h("p", { class: "muted" }, "期限の来ている世帯はありません。"),
  ];
}

export async function households() {
  const rows = (await store.households()).sort(byAddress);
  const results = h("div", {}, grouped(rows));
  const filter = h("input", {
    type: "search", id: "hh-filter", placeholder: "名前・住所で絞り込む", "aria-label": "名前・住所で絞り込む",
    oninput: () => {
      const q = filter.value.trim();
      const shown = q ? rows.filter((hh) => `${hh.name} ${addressLine(hh)} ${(hh.card?.residents || []).map((r) => `${r.name} ${r.kana}`).join(" ")}`.includes(q)) : rows;
      results.replaceChildren(...grouped(shown));
    },
  });
  return [h("h1", {}, "受持区の世帯", " ", h("span", { class: "badge" }, `${rows.length}件`)),
    h("p", {}, filter), results];
}

function cardView(card, pending) {
  if (!card) return h("section", { class: "card" }, h("h2", {}, "巡回連絡カード"), h("p", { class: "muted" }, "カードはありません（未把握）。"));
  const residents = card.residents || [];
  return h("section", { class: "card" },
    h("h2", {}, "巡回連絡カード", " ", pending ? h("span", { class: "badge warn" }, "補正は送信待ち") : h("span", { class: "muted" }, `第${card.version}版`)),
    h("table", { class: "list stack" },
      h("thead", {}, h("tr", {}, ["氏名", "ふりがな", "続柄", "生年月日", "電話", "勤務先・学校"].map((t) => h("th", {}, t)))),
      h("tbody", {}, residents.map((r) => h("tr", {},
        h("td", { "data-label": "氏名" }, r.name || ""), h("td", { "data-label": "ふりがな" }, r.kana || ""),
        h("td", { "data-label": "続柄" }, r.relation || ""), h("td", { "data-label": "生年月日" }, r.birth_date ? jdate(r.birth_date) : ""),
        h("td", { "data-label": "電話" }, r.phone || ""), h("td", { "data-label": "勤務先・学校" }, r.workplace || ""))))),
    (card.contacts || []).length ? h("p", {}, "緊急連絡先: ", card.contacts.map((c) => `${c.name}（${c.relation}）${c.phone}`).join("、")) : null,
    h("dl", { class: "facts" },
      h("dt", {}, "訪問の希望"), h("dd", {}, [card.preferred_days, card.preferred_times].filter(Boolean).join(" ") || "―"),
      h("dt", {}, "要望"), h("dd", {}, card.requests || "―"),
      h("dt", {}, "備考"), h("dd", {}, card.remarks || "―")));
}

export async function household(id) {
  const hh = await store.household(id);
  if (!hh) return [h("h1", {}, "見つかりません"), h("p", {}, "この世帯は端末にありません。")];
  await store.logRead(id);
  const pending = await store.pendingCard(id);
  const approvals = (await store.list("approvals")).filter((a) => a.household_id === id);
  const changes = (await store.outbox()).filter((c) => c.household_id === id);
  return [
    h("h1", {}, hh.name || "（名称なし）"),
    h("p", { class: "muted" }, addressLine(hh), hh.map_number ? ` ・ 整理番号 ${hh.map_number}` : ""),
    h("div", { class: "actions" },
      h("a", { class: "button", href: `#/h/${id}/visit` }, "巡回連絡を記録する"),
      hh.card ? h("a", { class: "button secondary", href: `#/h/${id}/card` }, "カードを補正する") : null),
    h("section", { class: "card" }, h("dl", { class: "facts" },
      h("dt", {}, "区分"), h("dd", {}, CATEGORY[hh.category] || hh.category || "―", hh.community_leader ? "（自治委員等）" : ""),
      h("dt", {}, "次回の期限"), h("dd", {}, jdate(hh.next_due)),
      h("dt", {}, "直近の巡回"), h("dd", {}, hh.last_visit_at ? jdate(hh.last_visit_at, true) : "―"),
      approvals.length ? [h("dt", {}, "夜間実施の承認"), h("dd", {}, approvals.map((a) => `${jdate(a.planned_start, true)}〜${jdate(a.planned_end, true)}`).join("、"))] : null)),
    cardView(pending || hh.card, Boolean(pending)),
    changes.length ? h("section", { class: "card" }, h("h2", {}, "この世帯の端末での記録"),
      h("ul", {}, changes.map((c) => h("li", {}, `${c.summary} ・ ${STATE[c.state] || c.state}`)))) : null,
  ];
}

function field(label, control, name, hint) {
  return h("div", { class: "field", "data-field": name }, h("label", {}, label, control),
    hint ? h("span", { class: "muted hint" }, hint) : null, h("span", { class: "field-error", role: "alert" }));
}

function showErrors(form, errors) {
  form.querySelectorAll("[data-field]").forEach((el) => {
    const message = errors[el.dataset.field] || "";
    el.classList.toggle("invalid", Boolean(message));
    el.querySelector(".field-error").textContent = message;
  });
  const summary = form.querySelector(".error-summary");
  const messages = Object.values(errors);
  summary.hidden = !messages.length;
  summary.replaceChildren(...(messages.length ? [h("strong", {}, "記録できません。次を直してください。"), h("ul", {}, messages.map((m) => h("li", {}, m)))] : []));
  if (messages.length) summary.focus();
}

function localInputValue(date) {
  return store.localIso(date).slice(0, 16);
}

export async function visitForm(id, ctx) {
  const hh = await store.household(id);
  if (!hh) return [h("h1", {}, "見つかりません")];
  const checkout = await store.get("meta", "checkout");
  const rules = checkout.rules;
  const approvals = await store.list("approvals");
  const methodChoices = hh.allowed_methods.map((m, i) => h("label", { class: "choice" },
    h("input", { type: "radio", name: "method", value: m, checked: i === 0 }), rules.methods[m] || m));
  const outcomeChoices = Object.entries(rules.outcomes).map(([value, label]) => h("label", { class: "choice" },
    h("input", { type: "radio", name: "outcome", value }), label));
  const topics = Object.entries(rules.guidance_topics).map(([value, label]) => h("label", { class: "choice" },
    h("input", { type: "checkbox", name: "topic", value }), label));
  const started = h("input", { type: "datetime-local", name: "started_at", value: localInputValue(new Date()), required: true });
  const explanation = h("textarea", { name: "refusal_explanation", rows: 2 });
  const note = h("textarea", { name: "note", rows: 2 });
  const observation = h("textarea", { name: "observation", rows: 2 });
  const nightNote = h("p", { class: "muted" });
  const showNight = () => {
    const when = new Date(started.value);
    if (Number.isNaN(when.getTime()) || !isNight(when, rules)) { nightNote.textContent = ""; return; }
    nightNote.textContent = approvalFor(when, hh.id, approvals) ? "夜間: 事前の承認があります。" : "夜間: この世帯の承認がありません（記録できません）。";
  };
  started.addEventListener("change", showNight);
  const form = h("form", { class: "stack visit-form", novalidate: true },
    h("div", { class: "alert error error-summary", tabindex: "-1", hidden: true }),
    field("実施日時", started, "started_at"), nightNote,
    h("fieldset", { "data-field": "method" }, h("legend", {}, "方法"), methodChoices,
      hh.allowed_methods.length === 1 ? h("span", { class: "muted hint" }, "電話は自治委員・区長・班長・組長の世帯のみ") : null,
      h("span", { class: "field-error", role: "alert" })),
    h("fieldset", { "data-field": "outcome" }, h("legend", {}, "結果"), outcomeChoices, h("span", { class: "field-error", role: "alert" })),
    field("拒否の場合、趣旨をどのように説明したか", explanation, "refusal_explanation", "拒否のときは必須（第4-5(4)）"),
    h("fieldset", {}, h("legend", {}, "指導連絡・情報提供事項"), topics),
    field("メモ", note, "note"),
    field("見聞きした情報（地域課長へ報告）", observation, "observations"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "記録する（同期で送信）"),
      h("a", { class: "button secondary", href: `#/h/${id}` }, "やめる")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const when = new Date(started.value);
    const visit = {
      started_at: Number.isNaN(when.getTime()) ? "" : store.localIso(when),
      method: data.get("method") || "",
      outcome: data.get("outcome") || "",
      guidance_topics: data.getAll("topic").map(Number),
      note: note.value.trim(),
      refusal_explanation: explanation.value.trim(),
      concerns: [],
      observations: observation.value.trim() ? [observation.value.trim()] : [],
    };
    const errors = visitErrors(visit, hh, rules, approvals);
    showErrors(form, errors);
    if (Object.keys(errors).length) return;
    await store.queue("visit", hh.id, { visit }, `巡回連絡（${rules.outcomes[visit.outcome]}）${jdate(visit.started_at, true)}`);
    ctx.flash(`記録しました（送信待ち）。${hh.name || ""}`);
    location.hash = "#/worklist";
  });
  return [h("h1", {}, "巡回連絡の記録"), h("p", { class: "muted" }, hh.name || "", " ・ ", addressLine(hh)), form];
}

export async function cardForm(id, ctx) {
  const hh = await store.household(id);
  if (!hh || !hh.card) return [h("h1", {}, "補正できません"), h("p", {}, "この世帯のカードは端末にありません。")];
  await store.logRead(id);
  const base = (await store.pendingCard(id)) || hh.card;
  const input = (name, value) => h("input", { type: "text", name, value: value || "" });
  const residentRows = (base.residents || []).map((r, i) => h("fieldset", { class: "resident" },
    h("legend", {}, `世帯員 ${i + 1}`),
    field("氏名", input(`r${i}.name`, r.name), `residents.${i}.name`),
    field("ふりがな", input(`r${i}.kana`, r.kana), `residents.${i}.kana`),
    field("電話", input(`r${i}.phone`, r.phone), `residents.${i}.phone`),
    field("勤務先・学校", input(`r${i}.workplace`, r.workplace), `residents.${i}.workplace`)));
  const form = h("form", { class: "stack card-form", novalidate: true },
    h("div", { class: "alert error error-summary", tabindex: "-1", hidden: true }),
    residentRows,
    field("訪問の希望（曜日）", input("preferred_days", base.preferred_days), "preferred_days"),
    field("訪問の希望（時間帯）", input("preferred_times", base.preferred_times), "preferred_times"),
    field("要望", h("textarea", { name: "requests", rows: 2 }, base.requests || ""), "requests"),
    field("備考", h("textarea", { name: "remarks", rows: 3 }, base.remarks || ""), "remarks"),
    field("補正のメモ", input("note", ""), "note"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "補正する（同期で送信）"),
      h("a", { class: "button secondary", href: `#/h/${id}` }, "やめる")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const card = { ...base, residents: (base.residents || []).map((r, i) => ({
      ...r, name: data.get(`r${i}.name`).trim(), kana: data.get(`r${i}.kana`).trim(),
      phone: data.get(`r${i}.phone`).trim(), workplace: data.get(`r${i}.workplace`).trim(),
    })) };
    ["preferred_days", "preferred_times", "requests", "remarks"].forEach((name) => { card[name] = String(data.get(name)).trim(); });
    const errors = {};
    card.residents.forEach((r, i) => { if (!r.name) errors[`residents.${i}.name`] = `世帯員 ${i + 1} の氏名を入力してください`; });
    const memo = String(data.get("note")).trim();
    if (memo.length > 200) errors.note = "補正のメモは200文字以内で入力してください";
    showErrors(form, errors);
    if (Object.keys(errors).length) return;
    // The version read before any change on the device: the server keeps both versions if the
    // card was corrected at the post meanwhile.
    card.version = hh.card.version;
    card.basis = "VISIT";
    card.note = memo;
    await store.queue("card", hh.id, { card }, `カードの補正（第${hh.card.version}版から）`);
    ctx.flash("補正しました（送信待ち）。");
    location.hash = `#/h/${id}`;
  });
  return [h("h1", {}, "カードの補正"), h("p", { class: "muted" }, hh.name || "", " ・ ", addressLine(hh)), form];
}

export async function outbox(ctx) {
  const changes = await store.outbox();
  const names = new Map();
  try {
    (await store.households()).forEach((hh) => names.set(hh.id, hh.name || addressLine(hh)));
  } catch (error) {
    if (!(error instanceof store.LeaseEnded)) throw error;
  }
  const reads = await store.count("reads");
  return [
    h("h1", {}, "同期"),
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => ctx.sync(), "data-sync": true }, "同期する"),
      h("span", { class: "muted" }, `送信待ち ${changes.filter((c) => c.state === "pending").length}件 ・ 未送信の閲覧記録 ${reads}件`)),
    changes.length ? h("ol", { class: "outbox" }, changes.slice().reverse().map((c) => h("li", { class: `change ${c.state}`, "data-client-id": c.client_id },
      h("strong", {}, names.get(c.household_id) || `世帯 ${c.household_id}`), " ",
      h("span", {}, c.summary), " ",
      h("span", { class: `badge ${c.state === "done" ? "ok" : c.state === "pending" ? "" : "danger"}` }, STATE[c.state] || c.state),
      c.result && c.result.replayed ? h("span", { class: "muted" }, "（再送: 記録は1件）") : null,
      c.result && c.result.conflict_url ? [" ", h("a", { href: c.result.conflict_url, class: "conflict-link" }, "競合を確認して選ぶ")] : null,
      c.result && c.state === "refused" ? h("div", { class: "muted" }, c.result.detail || "",
        c.result.errors ? ` ${Object.values(c.result.errors).flat().join(" ")}` : "") : null)))
      : h("p", { class: "muted" }, "端末での記録はまだありません。"),
  ];
}

// --- after a page is drawn: what needs the page in the document (the map) ---------------------

const toMount = [];
let toUndo = [];

/** Run `fn` once the page is in the document; what it returns is run when the page goes. */
function onMount(fn) { toMount.push(fn); }

/** Called by the router after each page is drawn. */
export function mountAll() {
  toUndo.splice(0).forEach((undo) => undo());
  toMount.splice(0).forEach((fn) => {
    const undo = fn();
    if (undo) toUndo.push(undo);
  });
}

// --- the beat map: the online map's Leaflet code (beat_map.js) on a plain background ------------

/** The beat as the GeoJSON the online beat map draws (planning/maps.py): each household, each
 * building its rooms gather under, the outline and the post. */
function mapData(checkout, rows, legend) {
  const point = (lon, lat) => ({ type: "Point", coordinates: [lon, lat] });
  const features = [];
  const buildings = new Map();
  rows.forEach((hh) => {
    features.push({ type: "Feature", geometry: point(hh.longitude, hh.latitude), properties: {
      kind: "household", id: hh.id, category: hh.category, due: hh.due || "later",
      next_due: hh.next_due, next_due_label: hh.next_due ? jdate(hh.next_due) : null, map_number: hh.map_number,
      label: [hh.name, addressLine(hh)].filter(Boolean).join(" ・ "), town: hh.town, building_id: hh.building_id || null,
    } });
    if (hh.building_id && !buildings.has(hh.building_id)) {
      buildings.set(hh.building_id, { type: "Feature", geometry: point(hh.longitude, hh.latitude),
        properties: { kind: "building", id: hh.building_id, name: hh.building_name || "アパート等" } });
    }
  });
  features.push(...buildings.values());
  if (checkout.beat.outline) {
    const outline = checkout.beat.outline;
    features.push({ type: "Feature", geometry: outline.type === "Feature" ? outline.geometry : outline,
      properties: { kind: "outline", id: checkout.beat.id, name: checkout.beat.name } });
  }
  const post = checkout.beat.post;
  if (post) features.push({ type: "Feature", geometry: point(post.longitude, post.latitude), properties: { kind: "post", name: post.name } });
  return { type: "FeatureCollection", features, junkai: { categories: legend.categories, due_labels: legend.due_labels } };
}

export async function map() {
  const checkout = await store.get("meta", "checkout");
  const all = await store.households();
  const rows = all.filter((hh) => hh.latitude != null && hh.longitude != null);
  if (!rows.length && !checkout.beat.outline) {
    return [h("h1", {}, "地図"), h("p", { class: "muted" }, "受持区の区域も世帯の位置もありません。")];
  }
  const legend = JSON.parse(document.getElementById("map-legend").textContent);
  const data = mapData(checkout, rows, legend);
  const box = h("div", { id: "offline-map", class: "beat-map offline-map", role: "region", "aria-label": `${checkout.beat.name}の地図` });
  onMount(() => {
    if (!box.isConnected || !window.JunkaiBeatMap) return null;
    const config = { tiles: {}, colours: legend.colours, household_url: "#/h/{id}", visit_url: "#/h/{id}/visit" };
    const made = window.JunkaiBeatMap.create(box, data, config);
    // Doors closer than a target's width merge into one numbered disc (a tap zooms in; at the
    // closest zoom it fans out); a building's rooms are one square listing them.
    window.JunkaiBeatMap.households(made.map, data, config, { interactive: true, cluster: true }).draw(() => true);
    box.dataset.ready = "1";
    return () => made.map.remove();
  });
  const unplaced = all.length - rows.length;
  return [h("h1", {}, "地図 ", h("span", { class: "muted" }, checkout.beat.name)),
    h("p", { class: "muted map-help" }, "点をタップすると世帯を開けます（記録もここから）。□はアパート等（数字は世帯数）、丸い数字は近くの世帯のまとまり（タップで拡大）。地図の画像は端末に保存しません。"),
    box,
    unplaced ? h("p", { class: "muted" }, `位置が登録されていない世帯が ${unplaced} 件あり、地図には表示されません（世帯の一覧で開けます）。`) : null];
}
