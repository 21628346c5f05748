// 受持区を端末に持ち出す (online): refused unless the browser grants persistent storage, then
// declared through the API (an entry of the 持出確認簿) and remembered on this device, which
// takes the beat in once a second officer has confirmed it out.
"use strict";

import * as store from "./store.js";

const form = document.getElementById("take-out");
const options = JSON.parse(document.getElementById("take-out-options").textContent);
const out = document.getElementById("take-out-result");

function say(kind, ...parts) {
  const box = document.createElement("div");
  box.className = `alert ${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  parts.forEach((part) => box.append(part));
  out.replaceChildren(box);
  box.focus();
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.className = "button";
  a.textContent = text;
  return a;
}

if (form) form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const granted = navigator.storage && navigator.storage.persist
    && ((await navigator.storage.persisted()) || (await navigator.storage.persist()));
  if (!granted) {
    say("error", "このブラウザが永続的な保存（persistent storage）を許可しないため、受持区を持ち出せません。"
      + "ブラウザの設定でこのサイトのデータの保存を許可するか、アプリとしてインストールしてから、もう一度行ってください。");
    return;
  }
  const existing = await store.get("meta", "checkout");
  if (existing) {
    say("error", "この端末には既に持ち出した受持区があります。返却してから持ち出してください。 ", link(form.dataset.app, "端末の画面へ"));
    return;
  }
  const data = new FormData(form);
  const response = await fetch(form.dataset.api, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": data.get("csrfmiddlewaretoken") },
    body: JSON.stringify({ device_id: Number(data.get("device_id")), beat_id: Number(data.get("beat_id")) }),
  }).catch(() => null);
  if (!response) {
    say("error", "ネットワークにつながりません。");
    return;
  }
  const answer = await response.json().catch(() => ({}));
  if (response.status !== 201) {
    say("error", [answer.detail || "持ち出せません", ...Object.values(answer.errors || {}).flat()].join(" "));
    return;
  }
  const beat = options.beats.find((b) => b.id === answer.beat_id);
  const registerUrl = `${options.register_urls[String(beat.post_id)]}#checkout-${answer.entry.id}`;
  await store.put("meta", {
    k: "checkout", id: answer.id, device_id: answer.device_id, device_label: answer.device_label,
    beat_id: answer.beat_id, beat_name: answer.beat_name, register_url: registerUrl,
  });
  form.hidden = true;
  say("success", `端末 ${answer.device_label} への受持区 ${answer.beat_name} の持出しを申告しました（持出確認簿に記載）。`
    + "持出確認者の確認を受けてから、端末の画面で受持区を取り込んでください。 ",
  link(registerUrl, "持出確認簿で確認を受ける"), " ", link(form.dataset.app, "端末の画面へ"));
});
