// The visit rules as they hold offline, run from what the server sent with the beat (the
// household's allowed methods, the night window, which outcomes need an explanation, the night
// approvals obtained beforehand): junkai/devices/sync.py. The server checks every rule again at
// sync (junkai/visits/actions.py do_record_visit) and the officer sees its answer there.
"use strict";

function hm(date, timeZone) {
  return new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .format(date);
}

/** Whether a moment falls in the night window (which may span midnight, 19:00–07:00). */
export function isNight(date, rules) {
  const t = hm(date, rules.timezone || "Asia/Tokyo");
  const start = rules.night_start.slice(0, 5);
  const end = rules.night_end.slice(0, 5);
  return start > end ? t >= start || t < end : start <= t && t < end;
}

export function approvalFor(date, householdId, approvals) {
  const t = date.getTime();
  return approvals.find((a) => a.household_id === householdId
    && Date.parse(a.planned_start) <= t && t <= Date.parse(a.planned_end)) || null;
}

/** Everything wrong with a visit as entered, field by field (empty when it may be queued). */
export function visitErrors(visit, household, rules, approvals, now = new Date()) {
  const errors = {};
  const started = new Date(visit.started_at);
  if (Number.isNaN(started.getTime())) {
    errors.started_at = "実施日時を入力してください";
  } else if (started.getTime() > now.getTime() + 5 * 60000) {
    errors.started_at = "実施日時が未来になっています";
  } else if (rules.night_needs_approval && isNight(started, rules)
      && !approvalFor(started, household.id, approvals)) {
    errors.started_at = `夜間（${rules.night_start.slice(0, 5)}〜${rules.night_end.slice(0, 5)}）の巡回連絡には、`
      + "事前に地域課長（交番勤務員は地域課長及び交番所長）の承認が必要です。承認がないため記録できません";
  }
  if (!household.allowed_methods.includes(visit.method)) {
    errors.method = "電話による巡回連絡は、自治委員・区長・班長・組長の世帯に限られます";
  }
  if (!visit.outcome) {
    errors.outcome = "結果を選んでください";
  } else if (rules.refusal_needs_explanation.includes(visit.outcome) && !visit.refusal_explanation.trim()) {
    errors.refusal_explanation = "拒否の場合は、巡回連絡の趣旨をどのように説明したかを入力してください";
  }
  return errors;
}
