// The device's store for offline field use (issue 18; README "Offline (client)").
//
// IndexedDB, one database. Every record that holds personal data (households with their cards,
// the work list, the night-visit approvals, the outbox's changes) is one AES-GCM blob under the
// checkout's data key, which the server hands out wrapped under a lease of one shift. The data
// key is unwrapped as a non-extractable CryptoKey and kept only until the lease ends; after that
// nothing here can be read until the officer signs in and a new lease re-wraps the same key.
// The offline read log is the hash chain junkai/devices/readlog.py checks.
"use strict";

export const DB_NAME = "junkai-offline";
const DB_VERSION = 1;
const enc = new TextEncoder();
const dec = new TextDecoder();

let dbPromise = null;

export function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("meta", { keyPath: "k" });
        db.createObjectStore("households", { keyPath: "id" });
        db.createObjectStore("lists", { keyPath: "k" });
        const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        outbox.createIndex("client_id", "client_id", { unique: true });
        db.createObjectStore("reads", { keyPath: "seq" });
      };
      request.onsuccess = () => {
        const db = request.result;
        // Another tab deleting the database (a wipe), or the browser clearing the site.
        db.onversionchange = () => { db.close(); dbPromise = null; };
        db.onclose = () => { dbPromise = null; };
        resolve(db);
      };
      request.onerror = () => { dbPromise = null; reject(request.error); };
    });
  }
  return dbPromise;
}

function settled(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

export async function get(store, key) {
  const db = await openDb();
  return settled(db.transaction(store).objectStore(store).get(key));
}

export async function getAll(store) {
  const db = await openDb();
  return settled(db.transaction(store).objectStore(store).getAll());
}

export async function count(store) {
  const db = await openDb();
  return settled(db.transaction(store).objectStore(store).count());
}

export async function put(store, value) {
  const db = await openDb();
  const tx = db.transaction(store, "readwrite");
  tx.objectStore(store).put(value);
  return committed(tx);
}

export async function remove(store, key) {
  const db = await openDb();
  const tx = db.transaction(store, "readwrite");
  tx.objectStore(store).delete(key);
  return committed(tx);
}

// --- the wipe: a returned or revoked checkout, or the officer's own 消去 ---------------------

export async function wipe() {
  if (dbPromise) {
    try { (await dbPromise).close(); } catch (error) { /* already gone */ }
    dbPromise = null;
  }
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(DB_NAME);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}

// --- keys ---------------------------------------------------------------------------------

export class LeaseEnded extends Error {}

export function fromB64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(b64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Take a lease from POST /device-checkouts/{id}/lease: the data key, unwrapped and kept as a
 * non-extractable key until the lease's end (README "Offline (server side)", keys.py). */
export async function acceptLease(lease) {
  const leaseKey = await crypto.subtle.importKey(
    "raw", fromB64url(lease.lease_key), "AES-GCM", false, ["unwrapKey"]);
  const key = await crypto.subtle.unwrapKey(
    "raw", fromB64url(lease.wrapped_data_key), leaseKey,
    { name: "AES-GCM", iv: fromB64url(lease.iv), additionalData: enc.encode(lease.aad) },
    "AES-GCM", false, ["encrypt", "decrypt"]);
  await put("meta", {
    k: "lease", key, expires: Date.parse(lease.expires_at), lease_id: lease.lease_id,
    checkout_id: lease.checkout_id,
  });
}

let dropTimer = null;

/** The data key while the lease lasts; once it has ended the key is deleted and LeaseEnded
 * thrown (the records stay, unreadable, until a new lease). */
export async function dataKey() {
  const lease = await get("meta", "lease");
  if (!lease) throw new LeaseEnded("データ鍵がありません。サインインして鍵を受け取ってください");
  if (Date.now() >= lease.expires) {
    await remove("meta", "lease");
    throw new LeaseEnded("鍵の貸与の期限が過ぎました。サインインし直して鍵を受け取ってください");
  }
  if (dropTimer === null) {
    // Drop the key at the lease's end even if the page stays open and idle.
    dropTimer = setTimeout(() => { dropTimer = null; dataKey().catch(() => {}); },
      Math.min(lease.expires - Date.now() + 50, 2 ** 31 - 1));
  }
  return lease.key;
}

export async function leaseInfo() {
  const lease = await get("meta", "lease");
  return lease ? { expires: lease.expires, valid: Date.now() < lease.expires } : null;
}

export async function seal(key, aad, value) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: enc.encode(aad) }, key, enc.encode(JSON.stringify(value)));
  return { iv, ct };
}

export async function unseal(key, aad, record) {
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: record.iv, additionalData: enc.encode(aad) }, key, record.ct);
  return JSON.parse(dec.decode(plain));
}

// --- the beat ------------------------------------------------------------------------------

/** Store a pull (GET /sync/pull): each household one sealed record; a full pull replaces the
 * beat, a partial one adds what changed and drops what left it. */
export async function storePull(data, extra) {
  const key = await dataKey();
  const households = await Promise.all(data.households.map(async (h) => (
    { id: h.id, ...(await seal(key, `h/${h.id}`, h)) })));
  const worklist = await seal(key, "worklist", data.worklist);
  const approvals = await seal(key, "approvals", data.night_approvals);
  const checkout = await get("meta", "checkout");
  const db = await openDb();
  const tx = db.transaction(["households", "lists", "meta"], "readwrite");
  const store = tx.objectStore("households");
  if (data.full) {
    store.clear();
  } else {
    const keep = new Set(data.household_ids);
    const keys = store.getAllKeys();
    keys.onsuccess = () => keys.result.forEach((id) => { if (!keep.has(id)) store.delete(id); });
  }
  households.forEach((record) => store.put(record));
  tx.objectStore("lists").put({ k: "worklist", ...worklist });
  tx.objectStore("lists").put({ k: "approvals", ...approvals });
  tx.objectStore("meta").put({
    ...checkout, ...extra, k: "checkout", cursor: data.cursor, beat: data.beat, rules: data.rules,
    pulled_at: Date.now(), household_count: data.household_ids.length,
  });
  await committed(tx);
}

export async function households() {
  const key = await dataKey();
  const records = await getAll("households");
  return Promise.all(records.map((r) => unseal(key, `h/${r.id}`, r)));
}

export async function household(id) {
  const key = await dataKey();
  const record = await get("households", id);
  return record ? unseal(key, `h/${id}`, record) : null;
}

export async function list(name) {
  const key = await dataKey();
  const record = await get("lists", name);
  return record ? unseal(key, name, record) : [];
}

// --- the outbox ----------------------------------------------------------------------------

function clientId() {
  return `d-${crypto.randomUUID()}`;
}

/** Queue a change (a visit, or a card correction) with its client id. A card correction not
 * yet sent is replaced by the newer one for the same card (one change, one version read). */
export async function queue(kind, householdId, body, summary) {
  const key = await dataKey();
  const pending = (await getAll("outbox")).find((c) => c.kind === "card" && kind === "card"
    && c.household_id === householdId && c.state === "pending");
  const id = pending ? pending.client_id : clientId();
  const sealed = await seal(key, `o/${id}`, body);
  const record = {
    ...(pending || {}), client_id: id, kind, household_id: householdId, ...sealed,
    state: "pending", result: null, summary, created_at: pending ? pending.created_at : Date.now(),
  };
  await put("outbox", record);
  return record;
}

export async function outbox() {
  const records = await getAll("outbox");
  return records.sort((a, b) => a.seq - b.seq);
}

export async function changeBody(record) {
  return unseal(await dataKey(), `o/${record.client_id}`, record);
}

/** The card as corrected on the device and not yet sent, if any. */
export async function pendingCard(householdId) {
  const pending = (await outbox()).find((c) => c.kind === "card" && c.household_id === householdId
    && c.state === "pending");
  return pending ? (await changeBody(pending)).card : null;
}

/** Record a push's answers: each change by its client id, in one transaction (a tab closed
 * before it commits sends them again, and the server answers its stored results). */
export async function settle(results, sentReads) {
  const db = await openDb();
  const tx = db.transaction(["outbox", "reads"], "readwrite");
  const index = tx.objectStore("outbox").index("client_id");
  results.forEach((result) => {
    const found = index.get(result.client_id);
    found.onsuccess = () => {
      if (!found.result) return;
      const state = result.status === "applied" ? "done" : result.status;
      tx.objectStore("outbox").put({ ...found.result, state, result });
    };
  });
  sentReads.forEach((seq) => tx.objectStore("reads").delete(seq));
  await committed(tx);
}

// --- the offline read log (junkai/devices/readlog.py) -------------------------------------------

async function sha256hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", enc.encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function genesis(checkoutId) {
  return sha256hex(`junkai-read-log/v1/${checkoutId}`);
}

/** ISO 8601 with the device's offset, as the read log keeps it. */
export function localIso(date) {
  const offset = -date.getTimezoneOffset();
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const shifted = new Date(date.getTime() + offset * 60000).toISOString().slice(0, 19);
  return `${shifted}${offset >= 0 ? "+" : "-"}${pad(offset / 60)}:${pad(offset % 60)}`;
}

export function entryHash(prev, entry) {
  // Keys in sorted order, no spaces: the same bytes as the server's json.dumps(sort_keys=True).
  const body = JSON.stringify({
    household_id: entry.household_id, purpose: entry.purpose, read_at: entry.read_at, seq: entry.seq,
  });
  return sha256hex(`${prev}\n${body}`);
}

let readChain = Promise.resolve();

/** Log a read of a household held on the device: the next link of the chain. */
export function logRead(householdId, purpose = "PATROL") {
  readChain = readChain.then(async () => {
    const checkout = await get("meta", "checkout");
    const head = (await get("meta", "readhead")) || { seq: 0, hash: await genesis(checkout.id) };
    const entry = { seq: head.seq + 1, household_id: householdId, read_at: localIso(new Date()), purpose };
    entry.prev = head.hash;
    entry.hash = await entryHash(head.hash, entry);
    const db = await openDb();
    const tx = db.transaction(["reads", "meta"], "readwrite");
    tx.objectStore("reads").put(entry);
    tx.objectStore("meta").put({ k: "readhead", seq: entry.seq, hash: entry.hash });
    await committed(tx);
  }).catch(() => {});
  return readChain;
}
