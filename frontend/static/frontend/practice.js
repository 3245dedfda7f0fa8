// The practice console (/practice/): the moderator console's queue, detail and actions, fed with
// practice scenarios only (moderation/practice/api.py), plus feedback after every decision.
//
// It draws items with the real console's builders (moderation/render.js) so that what a trainee
// learns to read is exactly what she will see on duty. No socket: practice items are hers alone.
// Navigation: #item-<id> opens an item, so the phone's Back button returns to the queue.

import { api, ApiError } from "./moderation/api.js";
import {
  CATEGORY_LABELS, MUTE_CHOICES, PRIORITY_RANK, WARNING_TEMPLATE, button, categoryBadges, claimLine, describeReason, duration, el,
  field, listOrNone, section, sensitiveText, waitLine, waited, when,
} from "./moderation/render.js";

const $ = (id) => document.getElementById(id);
const ui = {
  queue: $("queue"),
  empty: $("queue-empty"),
  summary: $("queue-summary"),
  detail: $("detail-view"),
  progress: $("practice-progress"),
  refresher: $("practice-refresher"),
  refresherText: $("refresher-text"),
};
const ME = JSON.parse($("moderator-name").textContent || '""');
const BLUR = new Set(["toxic", "risk"]);

const items = new Map(); // id → {flag, at}
let openId = null;
let detail = null; // {flag, context}
let detailUi = null;

const itemAction = (id, action, body = {}) => api(`/api/practice/items/${id}/${action}`, { method: "POST", body });

// --- queue ------------------------------------------------------------------------------------------


function sortedEntries() {
  return [...items.values()].sort((a, b) => {
    const fa = a.flag;
    const fb = b.flag;
    if (fa.escalated !== fb.escalated) return fa.escalated ? -1 : 1;
    const pa = PRIORITY_RANK[fa.priority] ?? 9;
    const pb = PRIORITY_RANK[fb.priority] ?? 9;
    if (pa !== pb) return pa - pb;
    return fa.id - fb.id;
  });
}

function queueItem(entry) {
  const flag = entry.flag;
  const message = flag.message;
  const li = el("li", `queue-item${flag.escalated ? " is-urgent" : ""}${flag.id === openId ? " is-open" : ""}`);
  li.dataset.flagId = String(flag.id);
  li.dataset.category = flag.category;
  if (flag.escalated) li.append(el("p", "pinned", "▲ Pinned: risk to the member"));
  li.append(categoryBadges(flag));
  const link = el("a", "queue-link");
  link.href = `#item-${flag.id}`;
  link.append(el("span", "queue-author", message.author.display_name), ` in ${message.room_name}`);
  link.append(el("span", "visually-hidden", `, ${CATEGORY_LABELS[flag.category] || flag.category}, practice item ${flag.id}`));
  li.append(el("h2", "queue-title", null));
  li.lastChild.append(link);
  li.append(waitLine(flag, waited(entry)));
  li.append(claimLine(flag, ME));
  li.append(sensitiveText(message.body, { blur: BLUR.has(flag.category), className: "queue-text" }));
  const reasons = el("ul", "reasons");
  reasons.setAttribute("aria-label", "Why it was flagged");
  for (const reason of flag.reasons || []) reasons.append(el("li", null, describeReason(reason)));
  li.append(reasons);
  const state = message.state !== "visible" ? ` · message ${message.state === "held" ? "held: only the author sees it" : message.state}` : "";
  li.append(el("p", "queue-meta", `Sources: ${(flag.sources || []).join(", ")} · practice${state}`));
  return li;
}

function renderQueue() {
  const entries = sortedEntries();
  ui.queue.replaceChildren(...entries.map(queueItem));
  ui.empty.hidden = entries.length > 0;
  const urgent = entries.filter((e) => e.flag.escalated).length;
  const parts = [`${entries.length} waiting`];
  if (urgent) parts.push(`${urgent} urgent`);
  ui.summary.textContent = parts.join(", ");
}

function renderProgress(p, refresher) {
  if (!p) return;
  const bits = [`${p.scenarios_done} of ${p.scenarios_needed} scenarios done`];
  if (p.accuracy_pct !== null) bits.push(`${p.accuracy_pct}% right`);
  if (p.risk.decisions) bits.push(`risk: ${p.risk.within_target} of ${p.risk.decisions} within 5 min`);
  ui.progress.textContent = p.meets_pass_mark
    ? `${bits.join(" · ")}. You've met the pass mark: a supervisor will review your record.`
    : `${bits.join(" · ")}.`;
  ui.refresher.hidden = !refresher;
  if (refresher) {
    ui.refresherText.textContent = `${refresher.reason}${refresher.due_by ? ` (by ${refresher.due_by})` : ""}`;
  }
}

async function refreshQueue() {
  try {
    const data = await api("/api/practice/queue");
    items.clear();
    for (const flag of data.items) items.set(flag.id, { flag, at: Date.now() });
    renderQueue();
    renderProgress(data.progress, data.refresher);
  } catch (err) {
    ui.summary.textContent = `Couldn't load the practice queue: ${err.message}`;
  }
}

// --- detail ------------------------------------------------------------------------------------------





async function run(label, fn, { success } = {}) {
  const current = detailUi;
  current.error.textContent = "";
  current.status.textContent = `${label}…`;
  for (const b of current.root.querySelectorAll(".actions button")) b.disabled = true;
  try {
    const data = await fn();
    current.status.textContent = success || "Done.";
    if (data && data.progress) renderProgress(data.progress, null);
    await loadDetail(openId, { fresh: true });
    refreshQueue();
    return true;
  } catch (err) {
    current.status.textContent = "";
    current.error.textContent = err instanceof ApiError || err instanceof Error ? err.message : String(err);
    applyActionState();
    return false;
  }
}

function buildActions() {
  const id = detail.flag.id;
  const message = detail.flag.message;
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
  const claim = button("Claim", "primary", () => run("Claiming", () => itemAction(id, "claim"), { success: "Claimed: it's yours." }));
  const release = button("Release", "small-button", () => run("Releasing", () => itemAction(id, "release"), { success: "Released back to the queue." }));
  claimRow.append(claim, release);

  const reason = el("input");
  reason.type = "text";
  reason.maxLength = 500;
  reason.autocomplete = "off";
  const reasonField = field("Reason (optional, kept in the record)", reason);

  const decideRow = el("div", "action-row");
  const hide = button("Hide message", "primary action-hide", () => run("Hiding", () => itemAction(id, "hide", { reason: reason.value }), { success: "Hidden." }));
  const approve = button("Approve", "small-button", () => run("Approving", () => itemAction(id, "approve", { reason: reason.value }), { success: "Approved: the message is in the room." }));
  const dismiss = button("Dismiss", "small-button", () => run("Dismissing", () => itemAction(id, "dismiss", { reason: reason.value }), { success: "Dismissed: the message stays." }));
  decideRow.append(hide, approve, dismiss);

  const warnBox = el("details", "action-more");
  warnBox.append(el("summary", null, "Send a warning"));
  const warnText = el("textarea");
  warnText.rows = 5;
  warnText.maxLength = 2000;
  warnText.value = WARNING_TEMPLATE.replace("{name}", message.author.display_name).replace("{room}", message.room_name);
  const warn = button("Send warning", "small-button", () => run("Sending the warning", () => itemAction(id, "warn", { text: warnText.value }), { success: "Warning sent (in practice: nobody receives it)." }));
  warnBox.append(field("What she would read (only she sees it)", warnText, "Edit as you like."), warn);

  const muteBox = el("details", "action-more");
  muteBox.append(el("summary", null, "Pause her posting (mute)"));
  const muteFor = el("select");
  for (const [minutes, text] of MUTE_CHOICES) {
    const option = el("option", null, text);
    option.value = String(minutes);
    muteFor.append(option);
  }
  const mute = button("Mute", "small-button", () => run("Muting", () => itemAction(id, "mute", { minutes: Number(muteFor.value), reason: reason.value }), { success: "Muted (in practice)." }));
  muteBox.append(field("For how long", muteFor, `Only in ${message.room_name}.`), mute);

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
    run("Escalating", () => itemAction(id, "escalate", { note: escNote.value }), { success: "Escalated (in practice: no supervisor is paged)." });
  });
  escBox.append(field("Why (required)", escNote, "On duty, the supervisors on call get this note by email."), escalate);

  const suspendBox = el("details", "action-more action-danger");
  suspendBox.append(el("summary", null, "Suspend the account"));
  const suspendConfirm = el("div", "confirm");
  suspendConfirm.hidden = true;
  const suspend = button("Suspend…", "small-button danger-button", () => {
    suspendConfirm.hidden = false;
    suspend.hidden = true;
    suspendConfirm.querySelector("button").focus();
  });
  const confirmYes = button(`Yes, suspend ${message.author.display_name}`, "primary danger", () =>
    run("Suspending", () => itemAction(id, "suspend", { reason: reason.value }), { success: "Suspended (in practice)." }));
  const confirmNo = button("Cancel", "small-button", () => { suspendConfirm.hidden = true; suspend.hidden = false; suspend.focus(); });
  suspendConfirm.append(el("p", "confirm-text", "Are you sure?"), confirmYes, confirmNo);
  suspendBox.append(el("p", "help", "On duty she would be logged out everywhere at once. Use it for serious or repeated harm."), suspend, suspendConfirm);

  const noteBox = el("details", "action-more");
  noteBox.append(el("summary", null, "Add a note about this member"));
  const noteText = el("textarea");
  noteText.rows = 3;
  noteText.maxLength = 2000;
  const addNote = button("Add note", "small-button", () =>
    run("Adding the note", () => itemAction(id, "note", { text: noteText.value }), { success: "Note added." }));
  noteBox.append(field("Note (moderators only)", noteText), addNote);

  const finishRow = el("div", "action-row");
  const finish = button("I've finished with this item", "small-button", () => run("Finishing", () => itemAction(id, "finish"), { success: "Finished." }));
  finishRow.append(finish);

  box.append(hint, claimRow, reasonField, decideRow, warnBox, muteBox, escBox, noteBox, suspendBox, finishRow, status, error);
  return { box, status, error, hint, claim, release, hide, approve, dismiss, warnBox, muteBox, escBox, suspendBox, noteBox, reasonField, finishRow };
}

function applyActionState() {
  if (!detail || !detailUi) return;
  const flag = detail.flag;
  const a = detailUi.actions;
  const decided = Boolean(flag.decided);
  const resolved = flag.state === "resolved";
  const mine = flag.state === "claimed" || (resolved && !decided);
  for (const b of detailUi.root.querySelectorAll(".actions button")) b.disabled = false;
  a.box.hidden = decided;
  a.claim.hidden = flag.state !== "open";
  a.release.hidden = flag.state !== "claimed";
  a.reasonField.hidden = resolved;
  a.hide.parentNode.hidden = resolved;
  a.hide.hidden = flag.message.state === "hidden";
  a.approve.hidden = flag.message.state !== "held";
  for (const b of [a.hide, a.approve, a.dismiss, a.warnBox.querySelector("button"), a.muteBox.querySelector("button"), a.escBox.querySelector("button"), a.suspendBox.querySelector("button")]) {
    if (b) b.disabled = !mine;
  }
  const taken = new Set(flag.actions_taken || []);
  a.warnBox.hidden = taken.has("warn");
  a.muteBox.hidden = taken.has("mute");
  a.escBox.hidden = taken.has("escalate");
  a.suspendBox.hidden = taken.has("suspend");
  a.finishRow.hidden = !(resolved && !decided);
  a.hint.textContent = resolved
    ? `Resolved${flag.resolution ? `: ${flag.resolution}` : ""}. If you meant to warn, mute or escalate as well, do it now; otherwise tell us you've finished.`
    : flag.state === "claimed"
      ? "You're handling this item."
      : "Claim this item to act on it, as you will on duty.";
}

function feedbackSection(fb) {
  const box = el("section", `detail-section practice-feedback ${fb.correct ? "is-right" : "is-missed"}`);
  box.setAttribute("aria-labelledby", "feedback-title");
  box.tabIndex = -1;
  const h = el("h3", null, fb.correct ? "✓ That's what a supervisor would do" : "✗ Not quite this time");
  h.id = "feedback-title";
  box.append(h);
  box.append(el("p", "feedback-lead", fb.correct
    ? "Well done."
    : "That's what practice is for: here is what a supervisor would have done, and why."));
  const dl = el("dl", "feedback-list");
  const row = (term, text) => { dl.append(el("dt", null, term), el("dd", null, text)); };
  const sentence = (text) => `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  row("You", sentence(fb.you_did));
  if (fb.wrong.length) row("Not right here", sentence(fb.wrong.join(", ")));
  row("Expected", fb.expected);
  row("Why", fb.explanation);
  // Time to act is the time to the right decision; a missed one has none to show.
  if (fb.is_risk && fb.correct && fb.seconds_to_act !== null) {
    const ok = fb.seconds_to_act <= fb.risk_target_seconds;
    row("Time to act", `${duration(fb.seconds_to_act)} (${ok ? "within" : "⚠ over"} the ${duration(fb.risk_target_seconds)} target)`);
  }
  box.append(dl);
  const next = el("div", "action-row");
  if (!fb.correct) {
    next.append(button("Try this one again", "primary", async () => {
      try {
        const data = await itemAction(detail.flag.id, "retry");
        await refreshQueue();
        location.hash = `#item-${data.flag.id}`;
      } catch (err) {
        box.append(el("p", "action-error", err.message));
      }
    }));
  }
  const back = el("a", "small-button back-to-queue", "Back to the practice queue");
  back.href = "#queue";
  next.append(back);
  box.append(next);
  return box;
}

function renderDetail(focusFeedback) {
  const { flag, context } = detail;
  const blur = BLUR.has(flag.category);
  const root = ui.detail;
  const top = el("div", "detail-top");
  const back = el("a", "back-link", "← Back to the practice queue");
  back.href = "#queue";
  top.append(back);

  const head = el("div", "detail-head");
  const title = el("h2", "detail-title", `${flag.message.author.display_name} in ${flag.message.room_name}`);
  title.id = "detail-title";
  title.tabIndex = -1;
  head.append(el("p", "practice-tag", "Practice item"), categoryBadges(flag), title);
  if (flag.state !== "resolved") head.append(waitLine(flag, flag.waiting_seconds));
  head.append(claimLine(flag, ME));

  const msg = section("The message", "detail-message");
  const stateText = flag.message.state === "held" ? "held: only the author sees it" : flag.message.state === "hidden" ? "hidden: members would see “Removed by a moderator”" : flag.message.state;
  msg.append(el("p", "ctx-meta", stateText));
  msg.append(sensitiveText(flag.message.body, { blur, className: "detail-body" }));
  const reasons = el("ul", "reasons");
  for (const r of flag.reasons || []) reasons.append(el("li", null, describeReason(r)));
  msg.append(el("h4", null, "Why it was flagged"), reasons);

  const conversation = section("Conversation around it", "detail-conversation");
  const ctx = el("ol", "ctx-list");
  for (const m of [...context.before, context.message, ...context.after]) {
    const li = el("li", `ctx-msg${m.is_flagged_message ? " is-flagged" : ""}`);
    const meta = el("p", "ctx-meta");
    if (m.is_flagged_message) meta.append(el("strong", "ctx-flagged-label", "▶ Flagged message"), " · ");
    meta.append(el("span", "ctx-author", m.author));
    li.append(meta, sensitiveText(m.body, { blur: m.is_flagged_message && blur, className: "ctx-body" }));
    ctx.append(li);
  }
  conversation.append(ctx);

  const reports = section(`Reports (${context.reports.length})`, "detail-reports");
  reports.append(listOrNone(context.reports, (r) => {
    const li = el("li");
    li.append(el("strong", null, r.by));
    if (r.reason) li.append(el("p", null, r.reason));
    return li;
  }, "No member has reported it."));
  const notes = section("Moderator notes on this member", "detail-notes");
  notes.append(listOrNone(context.notes, (n) => {
    const li = el("li");
    li.append(el("p", "ctx-meta", `${n.kind === "warning" ? "Warning sent" : "Note"} by ${n.by}`), el("p", null, n.text));
    return li;
  }, "No notes yet."));
  const earlier = section("Earlier flags", "detail-earlier");
  earlier.append(listOrNone(context.earlier_flags, (f) => {
    const li = el("li");
    li.append(el("p", "ctx-meta", `${CATEGORY_LABELS[f.category] || f.category} · resolved${f.resolution ? `: ${f.resolution}` : ""}`));
    li.append(sensitiveText(f.body, { blur: BLUR.has(f.category) }));
    return li;
  }, "None before this one."));

  const actions = buildActions();
  const parts = [top, head];
  if (flag.feedback) parts.push(feedbackSection(flag.feedback));
  parts.push(msg, actions.box, conversation, reports, notes, earlier);
  root.replaceChildren(...parts);
  detailUi = { root, status: actions.status, error: actions.error, actions };
  applyActionState();
  if (focusFeedback && flag.feedback) root.querySelector(".practice-feedback").focus();
}

async function loadDetail(id, { fresh = false } = {}) {
  try {
    const data = await api(`/api/practice/items/${id}`);
    if (openId !== id) return;
    const status = detailUi && fresh ? detailUi.status.textContent : "";
    const justDecided = fresh && data.flag.decided && !(detail && detail.flag.decided);
    detail = data;
    renderDetail(justDecided);
    if (status && !data.flag.decided) detailUi.status.textContent = status;
  } catch (err) {
    if (openId !== id) return;
    const back = el("a", "back-link", "← Back to the practice queue");
    back.href = "#queue";
    ui.detail.replaceChildren(back, el("h2", "detail-title", "Couldn't open this item"), el("p", "action-error", err.message));
  }
}

async function openDetail(id) {
  openId = id;
  detail = null;
  detailUi = null;
  document.body.classList.add("showing-detail");
  ui.detail.hidden = false;
  ui.detail.replaceChildren(el("p", "detail-loading", "Loading…"));
  for (const li of ui.queue.querySelectorAll(".queue-item")) li.classList.toggle("is-open", li.dataset.flagId === String(id));
  await loadDetail(id);
  const title = $("detail-title");
  if (title) title.focus({ preventScroll: true });
  ui.detail.scrollIntoView({ block: "start" });
}

function closeDetail() {
  const was = openId;
  openId = null;
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
  else if (openId !== null) closeDetail();
}

window.addEventListener("hashchange", route);
ui.queue.addEventListener("click", (event) => {
  if (event.target.closest("button, a")) return;
  const item = event.target.closest(".queue-item");
  if (item) location.hash = `#item-${item.dataset.flagId}`;
});

refreshQueue().then(route);
setInterval(() => {
  for (const p of ui.queue.querySelectorAll(".flag-wait")) {
    const entry = items.get(Number(p.dataset.flagId));
    if (entry) p.replaceWith(waitLine(entry.flag, waited(entry)));
  }
}, 15000);
