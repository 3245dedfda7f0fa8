// The moderator console (/moderation/): the live queue, one item's detail with its context, the
// console actions, and care for the moderator (blurring, duty, break reminders).
//
// Data: GET /api/moderation/queue, GET /api/moderation/flags/<id>, POST actions (moderation/api.py).
// Live: /ws/moderation/ sends flag.new, flag.urgent, flag.changed (each with the serialized flag)
// and flag.resolved (flag_id); the queue is patched from those and re-read on every (re)connect.
// Navigation: #item-<id> opens an item, so the phone's Back button returns to the queue.

import { api, ApiError, flagAction } from "./moderation/api.js";
import { checkinControls, showCheckinReply } from "./moderation/checkins.js";
import {
  CATEGORY_LABELS, MUTE_CHOICES, PRIORITY_RANK, WARNING_TEMPLATE, button, categoryBadges, claimLine, describeReason, duration, el,
  field, listOrNone, section, sensitiveText, waitLine, waited, when,
} from "./moderation/render.js";

const $ = (id) => document.getElementById(id);
const ui = {
  queue: $("queue"),
  empty: $("queue-empty"),
  queueView: $("queue-view"),
  summary: $("queue-summary"),
  feed: $("feed-state"),
  backlog: $("backlog"),
  checks: $("checks-line"),
  classifier: $("classifier-status"),
  safetyModel: $("safety-model-status"),
  detail: $("detail-view"),
  alert: $("urgent-alert"),
  alertText: $("urgent-alert-text"),
  alertOpen: $("urgent-alert-open"),
  dutyToggle: $("duty-toggle"),
  dutyState: $("duty-state"),
  dutyStats: $("duty-stats"),
  dutyError: $("duty-error"),
  breakBox: $("break-reminder"),
  breakText: $("break-text"),
  takeBreak: $("take-break"),
};
const ME = JSON.parse($("moderator-name").textContent || '""');
const DEFAULT_BLUR = ["toxic", "risk"];
const BASE_TITLE = document.title;

const flags = new Map(); // id → {flag, at: ms when its waiting_seconds was true}
const seenUrgent = new Set();
let blurCategories = new Set(DEFAULT_BLUR);
let openFlagId = null;

// --- queue ----------------------------------------------------------------------------------------


function sortedEntries() {
  return [...flags.values()].sort((a, b) => {
    const fa = a.flag;
    const fb = b.flag;
    if (fa.escalated !== fb.escalated) return fa.escalated ? -1 : 1;
    const pa = PRIORITY_RANK[fa.priority] ?? 9;
    const pb = PRIORITY_RANK[fb.priority] ?? 9;
    if (pa !== pb) return pa - pb;
    return fa.created_at < fb.created_at ? -1 : fa.created_at > fb.created_at ? 1 : 0;
  });
}

function shouldBlur(category) {
  return blurCategories.has(category);
}

function queueItem(entry) {
  const flag = entry.flag;
  const message = flag.message;
  const li = el("li", `queue-item${flag.escalated ? " is-urgent" : ""}${flag.id === openFlagId ? " is-open" : ""}`);
  li.dataset.flagId = String(flag.id);
  li.dataset.category = flag.category;
  if (flag.escalated) li.append(el("p", "pinned", "▲ Pinned: risk to the member"));
  li.append(categoryBadges(flag));
  const link = el("a", "queue-link");
  link.href = `#item-${flag.id}`;
  const author = message.author.display_name || "(erased member)";
  link.append(el("span", "queue-author", author), ` in ${message.room_name}`);
  link.append(el("span", "visually-hidden", `, ${CATEGORY_LABELS[flag.category] || flag.category}, item ${flag.id}`));
  li.append(el("h2", "queue-title", null));
  li.lastChild.append(link);
  li.append(waitLine(flag, waited(entry)));
  li.append(claimLine(flag, ME));
  li.append(sensitiveText(message.body, { blur: shouldBlur(flag.category), className: "queue-text" }));
  const reasons = el("ul", "reasons");
  reasons.setAttribute("aria-label", "Why it was flagged");
  for (const reason of flag.reasons || []) reasons.append(el("li", null, describeReason(reason)));
  li.append(reasons);
  const state = message.state !== "visible" ? ` · message ${message.state === "held" ? "held: only the author sees it" : message.state}` : "";
  li.append(el("p", "queue-meta", `Sources: ${(flag.sources || []).join(", ")} · #${message.seq} · ${when(message.created_at)}${state}`));
  return li;
}

function renderQueue() {
  const focusedId = document.activeElement && document.activeElement.closest && document.activeElement.closest(".queue-item")?.dataset.flagId;
  const entries = sortedEntries();
  ui.queue.replaceChildren(...entries.map(queueItem));
  ui.empty.hidden = entries.length > 0;
  const urgent = entries.filter((e) => e.flag.escalated).length;
  const missed = entries.filter((e) => waited(e) > e.flag.target_seconds).length;
  const parts = [`${entries.length} waiting`];
  if (urgent) parts.push(`${urgent} urgent`);
  if (missed) parts.push(`${missed} past target`);
  ui.summary.textContent = parts.join(", ");
  document.title = urgent ? `(⚠ ${urgent}) ${BASE_TITLE}` : entries.length ? `(${entries.length}) ${BASE_TITLE}` : BASE_TITLE;
  if (focusedId) ui.queue.querySelector(`.queue-item[data-flag-id="${focusedId}"] .queue-link`)?.focus({ preventScroll: true });
  updateUrgentAlert();
}

function tickWaits() {
  for (const p of ui.queue.querySelectorAll(".flag-wait")) {
    const entry = flags.get(Number(p.dataset.flagId));
    if (entry) p.replaceWith(waitLine(entry.flag, waited(entry)));
  }
}

function upsertFlag(flag) {
  flags.set(flag.id, { flag, at: Date.now() });
}

async function refreshQueue() {
  try {
    const data = await api("/api/moderation/queue");
    flags.clear();
    for (const flag of data.items) upsertFlag(flag);
    // Everyone gets the one friendly line; only supervisors' pages have (and get) the detail.
    ui.checks.textContent = data.checks_line;
    ui.checks.classList.toggle("is-degraded", !data.checks_ok);
    if (ui.backlog) ui.backlog.textContent = data.moderation_backlog;
    if (ui.classifier && data.classifier !== undefined) ui.classifier.textContent = data.classifier;
    if (ui.safetyModel && data.safety_model !== undefined) ui.safetyModel.textContent = data.safety_model;
    renderQueue();
  } catch (err) {
    ui.summary.textContent = `Couldn't load the queue: ${err.message}`;
  }
}

// --- urgent alert (visible, never a sound) -----------------------------------------------------------

function updateUrgentAlert() {
  const urgent = sortedEntries().filter((e) => e.flag.escalated && e.flag.state !== "claimed");
  const fresh = urgent.filter((e) => !seenUrgent.has(e.flag.id) && e.flag.id !== openFlagId);
  if (!fresh.length) {
    ui.alert.hidden = true;
    return;
  }
  const first = fresh[0].flag;
  ui.alertText.textContent = fresh.length === 1
    ? `a message in ${first.message.room_name} shows risk to the member. Respond within ${duration(first.target_seconds)}.`
    : `${fresh.length} messages show risk to the member. Respond within ${duration(first.target_seconds)}.`;
  ui.alertOpen.href = `#item-${first.id}`;
  ui.alert.hidden = false;
}

ui.alertOpen.addEventListener("click", () => {
  for (const entry of flags.values()) if (entry.flag.escalated) seenUrgent.add(entry.flag.id);
  ui.alert.hidden = true;
});

// --- live feed --------------------------------------------------------------------------------------

let attempt = 0;
function setFeed(state, text) {
  ui.feed.dataset.state = state;
  ui.feed.textContent = text;
}

function connectFeed() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${proto}://${location.host}/ws/moderation/`);
  let refused = false;
  socket.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame.type === "moderation.ready") {
      attempt = 0;
      setFeed("live", "● Live");
      refreshQueue(); // anything that happened while we were away
    } else if (frame.type === "flag.new" || frame.type === "flag.urgent" || frame.type === "flag.changed") {
      if (!frame.flag) return;
      upsertFlag(frame.flag);
      renderQueue();
      if (frame.flag.id === openFlagId) refreshDetailState(frame.flag);
    } else if (frame.type === "checkin.reply") {
      showCheckinReply(frame); // she answered a private check-in this moderator opened
    } else if (frame.type === "flag.resolved") {
      flags.delete(frame.flag_id);
      renderQueue();
      if (frame.flag_id === openFlagId) loadDetail(openFlagId);
    } else if (frame.type === "error" && (frame.code === "not_authenticated" || frame.code === "forbidden")) {
      refused = true;
      setFeed("stopped", frame.code === "not_authenticated" ? "Logged out: log in again" : "Not allowed");
    }
  });
  socket.addEventListener("close", (event) => {
    if (refused || event.code === 4401 || event.code === 4403) return;
    const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random());
    attempt += 1;
    setFeed("reconnecting", `Reconnecting in ${Math.max(1, Math.round(delay / 1000))} s…`);
    setTimeout(connectFeed, delay);
  });
}

// --- duty and care ---------------------------------------------------------------------------------

let duty = null;

function graceText(seconds) {
  const s = Math.max(1, Math.round(Number(seconds) || 60));
  return s < 60 ? `${s} second${s === 1 ? "" : "s"}` : duration(s);
}

function renderDuty(stats) {
  duty = stats;
  const on = Boolean(stats.on_duty);
  ui.dutyToggle.setAttribute("aria-checked", String(on));
  ui.dutyState.textContent = on ? "On" : "Off";
  ui.dutyStats.textContent = on
    ? `Handled ${stats.handled} item${stats.handled === 1 ? "" : "s"} · ${duration(stats.minutes * 60)} on duty`
    // What moderation/policy.py really does with nobody on duty: whatever would be flagged as
    // hurtful or insensitive is held instead; everything else, a newcomer's first words
    // included, is posted so nobody goes unheard; risk alerts are emailed to the on-call list.
    : `Off duty. Items you had claimed go back to the queue after ${graceText(stats.claim_grace_seconds)}. While no moderator is on duty, ` +
      "messages caught as hurtful or insensitive are held until one reviews them, urgent risk alerts are emailed " +
      "to the on-call supervisors, and all other messages (first ones too) are posted as usual.";
  const categories = Array.isArray(stats.blur_categories) && stats.blur_categories.length ? stats.blur_categories : DEFAULT_BLUR;
  const changed = categories.join() !== [...blurCategories].join();
  blurCategories = new Set(categories);
  if (changed) renderQueue();
  ui.breakBox.hidden = !(on && stats.suggest_break);
  if (on && stats.suggest_break) {
    ui.breakText.textContent =
      `You've handled ${stats.handled} item${stats.handled === 1 ? "" : "s"} in ${duration(stats.minutes * 60)}. ` +
      "Hard messages take something out of everyone. A few minutes away helps you keep caring well; the other moderators and the queue will be here.";
  }
}

async function loadDuty() {
  try {
    renderDuty(await api("/api/moderation/duty"));
    ui.dutyError.textContent = "";
  } catch (err) {
    ui.dutyError.textContent = err.message;
  }
}

async function setDuty(on) {
  ui.dutyToggle.disabled = true;
  try {
    renderDuty(await api("/api/moderation/duty", { method: "POST", body: { on_duty: on } }));
    ui.dutyError.textContent = "";
  } catch (err) {
    ui.dutyError.textContent = err.message;
  } finally {
    ui.dutyToggle.disabled = false;
  }
}

ui.dutyToggle.addEventListener("click", () => setDuty(!(duty && duty.on_duty)));
ui.takeBreak.addEventListener("click", () => setDuty(false));

// --- detail -------------------------------------------------------------------------------------------

let detail = null; // {flag, context}
let detailUi = null;


function contextMessage(m, { blurFlagged }) {
  const li = el("li", `ctx-msg${m.is_flagged_message ? " is-flagged" : ""}`);
  const meta = el("p", "ctx-meta");
  if (m.is_flagged_message) meta.append(el("strong", "ctx-flagged-label", "▶ Flagged message"), " · ");
  meta.append(el("span", "ctx-author", m.author || "(erased member)"), ` · ${when(m.created_at)} · #${m.seq}`);
  if (m.state && m.state !== "visible") meta.append(` · ${m.state}`);
  li.append(meta);
  li.append(sensitiveText(m.body, { blur: m.is_flagged_message && blurFlagged, className: "ctx-body" }));
  return li;
}




/** Run one console action: busy state, the server's error next to the buttons, reload after. */
async function run(label, fn, { success, keepOpen = true } = {}) {
  const ui = detailUi; // she may go back to the queue (detailUi = null) before this finishes
  const { status, error } = ui;
  error.textContent = "";
  status.textContent = `${label}…`;
  ui.root.classList.add("is-busy");
  for (const b of ui.root.querySelectorAll(".actions button")) b.disabled = true;
  try {
    await fn();
    status.textContent = success || "Done.";
    loadDuty();
    if (keepOpen) await loadDetail(openFlagId);
    return true;
  } catch (err) {
    status.textContent = "";
    error.textContent = err instanceof ApiError || err instanceof Error ? err.message : String(err);
    // What we showed may be stale (another moderator acted): re-read, keep her typing.
    if (err.status === 409) await loadDetail(openFlagId);
    return false;
  } finally {
    ui.root.classList.remove("is-busy");
    applyActionState();
  }
}

function buildActions() {
  const flagId = detail.flag.id;
  const box = el("section", "detail-section actions");
  box.setAttribute("aria-labelledby", "actions-title");
  const h = el("h3", null, "Actions");
  h.id = "actions-title";
  box.append(h);

  const status = el("p", "action-status");
  status.setAttribute("role", "status");
  const error = el("p", "action-error");
  error.setAttribute("role", "alert");
  const hint = el("p", "action-hint");

  const claimRow = el("div", "action-row");
  const claim = button("Claim", "primary", () => run("Claiming", () => flagAction(flagId, "claim"), { success: "Claimed: it's yours. Others see you're handling it." }));
  const release = button("Release", "small-button", () => run("Releasing", () => flagAction(flagId, "release"), { success: "Released back to the queue." }));
  claimRow.append(claim, release);

  const reason = el("input");
  reason.type = "text";
  reason.maxLength = 500;
  reason.autocomplete = "off";
  const reasonField = field("Reason (optional, kept in the record)", reason);

  const decideRow = el("div", "action-row");
  const hide = button("Hide message", "primary action-hide", () =>
    run("Hiding", () => flagAction(flagId, "hide", { reason: reason.value }), { success: "Hidden. Members now see “Removed by a moderator”." }));
  const approve = button("Approve", "small-button", () =>
    run("Approving", () => flagAction(flagId, "approve", { reason: reason.value }), { success: "Approved: everyone in the room can see it now." }));
  const dismiss = button("Dismiss", "small-button", () =>
    run("Dismissing", () => flagAction(flagId, "dismiss", { reason: reason.value }), { success: "Dismissed as a false alarm." }));
  decideRow.append(hide, approve, dismiss);

  const restoreRow = el("div", "action-row undo-row");
  const restore = button("Restore message (undo hide)", "small-button", () =>
    run("Restoring", () => api(`/api/moderation/messages/${detail.flag.message.id}/restore`, { method: "POST", body: { reason: reason.value } }),
      { success: "Restored: the message is back in the room." }));
  restoreRow.append(restore);

  // Warn
  const warnBox = el("details", "action-more");
  warnBox.append(el("summary", null, "Send a warning"));
  const warnText = el("textarea");
  warnText.rows = 5;
  warnText.maxLength = 2000;
  warnText.value = WARNING_TEMPLATE
    .replace("{name}", detail.flag.message.author.display_name || "there")
    .replace("{room}", detail.flag.message.room_name);
  const warn = button("Send warning", "small-button", () =>
    run("Sending the warning", () => flagAction(flagId, "warn", { text: warnText.value }), { success: "Warning sent. She sees it privately in the chat." }));
  warnBox.append(field("What she will read (only she sees it)", warnText, "Edit as you like. Leave it empty to send the standard wording."), warn);

  // Mute
  const muteBox = el("details", "action-more");
  muteBox.append(el("summary", null, "Pause her posting (mute)"));
  const muteFor = el("select");
  for (const [minutes, text] of MUTE_CHOICES) {
    const option = el("option", null, text);
    option.value = String(minutes);
    muteFor.append(option);
  }
  const mute = button("Mute", "small-button", () =>
    run("Muting", () => flagAction(flagId, "mute", { minutes: Number(muteFor.value), reason: reason.value }),
      { success: `Muted for ${muteFor.selectedOptions[0].textContent} in ${detail.flag.message.room_name}. She can still read.` }));
  muteBox.append(field("For how long", muteFor, `Only in ${detail.flag.message.room_name}. She is told privately and can still read.`), mute);

  // Escalate
  const escBox = el("details", "action-more");
  escBox.append(el("summary", null, "Escalate to supervisors"));
  const escNote = el("textarea");
  escNote.rows = 3;
  escNote.maxLength = 2000;
  const escalate = button("Escalate", "small-button", () => {
    if (!escNote.value.trim()) {
      detailUi.error.textContent = "Say in a sentence why you are escalating.";
      escNote.focus();
      return;
    }
    run("Escalating", () => flagAction(flagId, "escalate", { note: escNote.value }), { success: "Escalated: the supervisors have been told." })
      .then((ok) => { if (ok) escNote.value = ""; });
  });
  escBox.append(field("Why (required)", escNote, "The supervisors on call get this note by email."), escalate);

  // Suspend, with a confirmation step
  const suspendBox = el("details", "action-more action-danger");
  suspendBox.append(el("summary", null, "Suspend the account"));
  const suspendWarn = el("p", "help", "She is logged out everywhere at once and cannot log in until a moderator reinstates her. Use it for serious or repeated harm.");
  const suspendConfirm = el("div", "confirm");
  suspendConfirm.hidden = true;
  const suspend = button("Suspend…", "small-button danger-button", () => {
    suspendConfirm.hidden = false;
    suspend.hidden = true;
    suspendConfirm.querySelector("button").focus();
  });
  const confirmYes = button(`Yes, suspend ${detail.flag.message.author.display_name || "this account"}`, "primary danger", () =>
    run("Suspending", () => flagAction(flagId, "suspend", { reason: reason.value }), { success: "Suspended. Her open chats were closed." })
      .then(() => { suspendConfirm.hidden = true; suspend.hidden = false; }));
  const confirmNo = button("Cancel", "small-button", () => { suspendConfirm.hidden = true; suspend.hidden = false; suspend.focus(); });
  suspendConfirm.append(el("p", "confirm-text", "Are you sure?"), confirmYes, confirmNo);
  suspendBox.append(suspendWarn, suspend, suspendConfirm);

  // Note (on the member, not the item: no claim needed)
  const noteBox = el("details", "action-more");
  noteBox.append(el("summary", null, "Add a note about this member"));
  const noteText = el("textarea");
  noteText.rows = 3;
  noteText.maxLength = 2000;
  const addNote = button("Add note", "small-button", () => {
    const authorId = detail.flag.message.author.id;
    return run("Adding the note", () => api(`/api/moderation/members/${authorId}/note`, { method: "POST", body: { text: noteText.value } }),
      { success: "Note added. Other moderators will see it." }).then((ok) => { if (ok) noteText.value = ""; });
  });
  noteBox.append(field("Note (moderators only)", noteText), addNote);

  const mutes = el("div", "action-row undo-row mutes");

  box.append(hint, claimRow, reasonField, decideRow, restoreRow, mutes, warnBox, muteBox, escBox, noteBox, suspendBox, status, error);
  return { box, status, error, hint, claim, release, hide, approve, dismiss, restore, restoreRow, mutes, warnBox, muteBox, escBox, suspendBox, noteBox, reasonField };
}

/** Which buttons make sense now: claim-only actions need her claim; undo needs something to undo. */
function applyActionState() {
  if (!detail || !detailUi) return;
  const { flag, context } = detail;
  const a = detailUi.actions;
  const mine = flag.state === "claimed" && flag.claimed_by === ME;
  const resolved = flag.state === "resolved";
  // The action that resolved the item does not end her work on it: for a while after, the
  // moderator who resolved it can still hide the message and warn, mute or suspend its author
  // (the server checks the same window: moderation/actions.py FOLLOW_UP_WINDOW).
  const followUp = resolved && flag.resolved_by === ME && Boolean(flag.follow_up_until) && Date.parse(flag.follow_up_until) > Date.now();
  const canAct = mine || followUp;
  const message = flag.message;
  const hasAuthor = Boolean(message.author && message.author.id);
  for (const b of detailUi.root.querySelectorAll(".actions button")) b.disabled = false;
  a.claim.hidden = mine || resolved;
  a.release.hidden = !mine;
  a.reasonField.hidden = resolved && !followUp;
  a.hide.parentNode.hidden = resolved && !(followUp && message.state !== "hidden");
  a.escBox.hidden = resolved;
  a.hide.hidden = message.state === "hidden";
  a.approve.hidden = resolved || message.state !== "held";
  a.dismiss.hidden = resolved;
  for (const b of [a.hide, a.approve, a.dismiss, a.warnBox.querySelector("button"), a.muteBox.querySelector("button"), a.escBox.querySelector("button"), a.suspendBox.querySelector("button")]) {
    if (b) b.disabled = !canAct;
  }
  a.warnBox.hidden = !canAct || !hasAuthor;
  a.muteBox.hidden = !canAct || !hasAuthor;
  a.suspendBox.hidden = !canAct || !hasAuthor || context.author_suspended;
  a.noteBox.hidden = !hasAuthor;
  a.restoreRow.hidden = message.state !== "hidden";
  a.hint.textContent = followUp
    ? `Resolved${flag.resolution ? `: ${flag.resolution}` : ""}. You can still act on her below: hide the message, warn, mute or suspend. Each is recorded on its own.`
    : resolved
    ? `Resolved${flag.resolution ? `: ${flag.resolution}` : ""}${flag.resolved_by ? ` by ${flag.resolved_by}` : ""}. You can still undo below.`
    : mine
      ? "You're handling this item. Others can see that."
      : flag.state === "claimed"
        ? `${flag.claimed_by} is handling this. Claim it only if you've agreed to take over.`
        : "Claim this item to act on it, so two moderators don't act at once.";
  a.mutes.replaceChildren();
  for (const mute of context.active_mutes || []) {
    a.mutes.append(button(`Unmute in ${mute.room} (muted until ${when(mute.until)})`, "small-button", () =>
      run("Lifting the mute", () => api(`/api/moderation/mutes/${mute.id}/unmute`, { method: "POST", body: {} }), { success: "Unmuted: she can post again and has been told." })));
  }
}

function detailHead(flag, context) {
  const message = flag.message;
  const head = el("div", "detail-head");
  const title = el("h2", "detail-title", `${message.author.display_name || "(erased member)"} in ${message.room_name}`);
  title.id = "detail-title";
  title.tabIndex = -1;
  head.append(categoryBadges(flag), title);
  if (flag.state !== "resolved") head.append(waitLine(flag, flag.waiting_seconds));
  head.append(claimLine(flag, ME));
  if (context.author_suspended) head.append(el("p", "detail-warning", "⚠ This account is suspended."));
  return head;
}

function messageSection(flag, blur) {
  const message = flag.message;
  const msg = section("The message", "detail-message");
  const stateText = message.state === "held" ? "held: only the author sees it" : message.state === "hidden" ? "hidden: members see “Removed by a moderator”" : message.state;
  msg.append(el("p", "ctx-meta", `#${message.seq} · ${when(message.created_at)} · ${stateText}`));
  msg.append(sensitiveText(message.body, { blur, className: "detail-body" }));
  const reasons = el("ul", "reasons");
  for (const reason of flag.reasons || []) reasons.append(el("li", null, describeReason(reason)));
  msg.append(el("h4", null, "Why it was flagged"), reasons);
  return msg;
}

function conversationSection(flag, context, blur) {
  const conversation = section("Conversation around it", "detail-conversation");
  const ctx = el("ol", "ctx-list");
  for (const m of [...context.before, context.message, ...context.after]) ctx.append(contextMessage(m, { blurFlagged: blur }));
  conversation.append(el("p", "help", `Up to 10 messages before and after, in ${flag.message.room_name}.`), ctx);
  return conversation;
}

function contextSections(context) {
  const reports = section(`Reports (${(context.reports || []).length})`, "detail-reports");
  reports.append(listOrNone(context.reports, (r) => {
    const li = el("li");
    li.append(el("strong", null, r.by), ` · ${when(r.created_at)}`);
    if (r.reason) li.append(el("p", null, r.reason));
    return li;
  }, "No member has reported it."));

  const notes = section("Moderator notes on this member", "detail-notes");
  notes.append(listOrNone(context.notes, (n) => {
    const li = el("li");
    li.append(el("p", "ctx-meta", `${n.kind === "warning" ? "Warning sent" : "Note"} by ${n.by || "a former moderator"} · ${when(n.created_at)}`), el("p", null, n.text));
    return li;
  }, "No notes yet."));

  const earlier = section("Earlier flags", "detail-earlier");
  earlier.append(listOrNone(context.earlier_flags, (f) => {
    const li = el("li");
    li.append(el("p", "ctx-meta", `${CATEGORY_LABELS[f.category] || f.category} · ${f.state}${f.resolution ? `: ${f.resolution}` : ""} · ${when(f.created_at)}`));
    li.append(sensitiveText(f.body, { blur: shouldBlur(f.category) }));
    return li;
  }, "None before this one."));

  const elsewhere = section("Her recent messages in other rooms", "detail-elsewhere");
  elsewhere.append(listOrNone(context.author_elsewhere, (m) => {
    const li = el("li");
    li.append(el("p", "ctx-meta", `${m.room} · ${when(m.created_at)}${m.state !== "visible" ? ` · ${m.state}` : ""}`), el("p", "ctx-body", m.body));
    return li;
  }, "Nothing elsewhere recently."));
  return { reports, notes, earlier, elsewhere };
}

/** Build the item's page once per opening; later reads only swap the parts that show data. */
function renderDetail() {
  const { flag, context } = detail;
  const blur = shouldBlur(flag.category);
  const root = ui.detail;
  const top = el("div", "detail-top");
  const back = el("a", "back-link", "← Back to the queue");
  back.href = "#queue";
  top.append(back);
  const parts = {
    head: detailHead(flag, context),
    message: messageSection(flag, blur),
    conversation: conversationSection(flag, context, blur),
    ...contextSections(context),
  };
  const actions = buildActions();
  root.replaceChildren(top, parts.head, parts.message, checkinControls(flag), actions.box, parts.conversation, parts.reports, parts.notes, parts.earlier, parts.elsewhere);
  detailUi = { root, status: actions.status, error: actions.error, actions, parts, shown: JSON.stringify(detail) };
  applyActionState();
  const ctx = parts.conversation.querySelector(".ctx-list");
  const flagged = ctx.querySelector(".is-flagged");
  if (flagged) ctx.scrollTop = Math.max(0, flagged.offsetTop - ctx.offsetTop - 48);
}

/** Fresh data for the open item: what she typed, opened and unblurred stays as it was. */
function updateDetail() {
  const { flag, context } = detail;
  const { parts } = detailUi;
  const blur = shouldBlur(flag.category);
  const swap = (name, node) => {
    parts[name].replaceWith(node);
    parts[name] = node;
  };
  swap("head", detailHead(flag, context));
  // Keep her choice to read the text: only the line with the state is redrawn.
  parts.message.querySelector(".ctx-meta").replaceWith(messageSection(flag, blur).querySelector(".ctx-meta"));
  const fresh = contextSections(context);
  for (const name of ["reports", "notes", "earlier", "elsewhere"]) swap(name, fresh[name]);
  const before = JSON.stringify([detailUi.context?.before, detailUi.context?.after, detailUi.context?.message]);
  if (before !== JSON.stringify([context.before, context.after, context.message])) swap("conversation", conversationSection(flag, context, blur));
  detailUi.context = context;
  applyActionState();
}

/** A feed update for the open item: the claim line and buttons change, her typing stays. */
function refreshDetailState(flag) {
  if (!detail || detail.flag.id !== flag.id || !detailUi) return;
  detail.flag = flag;
  detailUi.parts.head.querySelector(".flag-claim")?.replaceWith(claimLine(flag, ME));
  applyActionState();
}

async function loadDetail(flagId) {
  try {
    const data = await api(`/api/moderation/flags/${flagId}`);
    if (openFlagId !== flagId) return;
    const first = !detail || !detailUi || detail.flag.id !== flagId;
    detail = data;
    if (first) {
      renderDetail();
      detailUi.context = data.context;
    } else {
      updateDetail();
    }
  } catch (err) {
    if (openFlagId !== flagId) return;
    if (detailUi) {
      detailUi.error.textContent = err.message;
      return;
    }
    ui.detail.replaceChildren();
    const back = el("a", "back-link", "← Back to the queue");
    back.href = "#queue";
    ui.detail.append(back, el("h2", "detail-title", "Couldn't open this item"), el("p", "action-error", err.message));
  }
}

async function openDetail(flagId) {
  openFlagId = flagId;
  seenUrgent.add(flagId);
  detail = null;
  detailUi = null;
  document.body.classList.add("showing-detail");
  ui.detail.hidden = false;
  ui.detail.replaceChildren(el("p", "detail-loading", "Loading…"));
  for (const li of ui.queue.querySelectorAll(".queue-item")) li.classList.toggle("is-open", li.dataset.flagId === String(flagId));
  updateUrgentAlert();
  await loadDetail(flagId);
  const title = $("detail-title");
  if (title) title.focus({ preventScroll: true });
  ui.detail.scrollIntoView({ block: "start" });
}

function closeDetail() {
  const was = openFlagId;
  openFlagId = null;
  detail = null;
  detailUi = null;
  document.body.classList.remove("showing-detail");
  ui.detail.hidden = true;
  ui.detail.replaceChildren();
  renderQueue();
  const link = was && ui.queue.querySelector(`.queue-item[data-flag-id="${was}"] .queue-link`);
  if (link) link.focus();
}

function route() {
  const match = /^#item-(\d+)$/.exec(location.hash);
  if (match) openDetail(Number(match[1]));
  else if (openFlagId !== null) closeDetail();
}

window.addEventListener("hashchange", route);
// The whole card opens the item, not only its title link; buttons inside keep their own job.
ui.queue.addEventListener("click", (event) => {
  if (event.target.closest("button, a")) return;
  const item = event.target.closest(".queue-item");
  if (item) location.hash = `#item-${item.dataset.flagId}`;
});

// --- start ----------------------------------------------------------------------------------------------

loadDuty();
refreshQueue().then(route);
connectFeed();
setInterval(tickWaits, 15000);
setInterval(loadDuty, 60000);
// The feed patches the list; a full re-read now and then heals anything missed.
setInterval(refreshQueue, 60000);
