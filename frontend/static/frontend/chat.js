// Kindred room page. Wires the socket (chat/connection.js), the message list (chat/timeline.js)
// and the outbox of unsent messages (chat/outbox.js) to the page. Protocol: docs/protocol.md.

import { RoomConnection, socketUrl } from "./chat/connection.js";
import { dispatchFrame, onFrame } from "./chat/frames.js";
import { Outbox } from "./chat/outbox.js";
import { Timeline } from "./chat/timeline.js";
import { compose } from "./chat/compose.js";
import { renderSettings } from "./chat/render.js";
// Support cards, private notices and the muted explanation: frames the core leaves to features.
import "./member-safety.js";
// Reactions, replies, edits, reports, mute/block, content notes, resource cards.
import "./member-features.js";
import "./checkin-banner.js"; // private check-ins: a banner linking to the conversation

const TYPING_SEND_INTERVAL_MS = 3000;
const TYPING_SHOW_MS = 4000;
const HISTORY_PAGE = 50;
const SERVER_ERROR_RETRY_MS = 5000;

const config = JSON.parse(document.getElementById("chat-config").textContent);
const $ = (id) => document.getElementById(id);
const ui = {
  state: $("conn-state"),
  retry: $("conn-retry"),
  presence: $("presence"),
  older: $("load-older"),
  list: $("messages"),
  scroller: $("timeline") || $("messages"),
  jump: $("jump-new"),
  typing: $("typing"),
  form: $("composer"),
  input: $("composer-input"),
  error: $("composer-error"),
  announcer: $("announcer"),
};

let me = config.me;
// How she wants messages drawn: before the first one is.
renderSettings.collapseTopics = new Set(config.collapseTopics || []);
if (config.editWindowSeconds) renderSettings.editWindowMs = config.editWindowSeconds * 1000;
for (const option of document.querySelectorAll("#content-note option")) {
  if (option.value) renderSettings.topicLabels[option.value] = option.textContent;
}
const timeline = new Timeline(ui.list, ui.scroller, me);
// Keyed by account too: on a shared phone, one mother's unsent words never go out as another's.
const outbox = new Outbox(`${config.me.id}:${config.room}`);
const connection = new RoomConnection(socketUrl(config.wsPath), {
  pingFrame: () => {
    const frame = { type: "ping" };
    // Only what she could actually have seen counts as read.
    if (document.visibilityState === "visible" && timeline.lastSeq > 0) frame.read_seq = timeline.lastSeq;
    return frame;
  },
});

// --- connection state -----------------------------------------------------------------------

let countdownTimer = null;

function showState(detail) {
  clearInterval(countdownTimer);
  const { state } = detail;
  ui.state.dataset.state = state;
  if (ui.retry) ui.retry.hidden = !(state === "reconnecting" || state === "offline");
  ui.form.classList.toggle("is-offline", state !== "connected");
  if (state === "connecting") ui.state.textContent = "Connecting…";
  else if (state === "connected") ui.state.textContent = "Connected";
  else if (state === "offline") ui.state.textContent = "Offline: waiting for the network";
  else if (state === "reconnecting") {
    const tick = () => {
      const seconds = Math.max(1, Math.ceil((detail.retryAt - Date.now()) / 1000));
      ui.state.textContent = `Reconnecting in ${seconds}s…`;
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
  } else if (state === "stopped") {
    ui.state.replaceChildren(document.createTextNode(`Not connected. ${detail.reason} `));
    if (detail.code === "not_authenticated") {
      const login = document.createElement("a");
      login.href = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`;
      login.textContent = "Log in again";
      ui.state.append(login);
    } else if (detail.code === "too_many_sockets") {
      // Reopening here closes her oldest other tab instead: her choice, never automatic.
      const again = document.createElement("a");
      again.href = location.pathname;
      again.textContent = "Open it here again";
      ui.state.append(again);
    } else {
      const back = document.createElement("a");
      back.href = "/rooms/";
      back.textContent = "Back to rooms";
      ui.state.append(back);
    }
  }
}

connection.addEventListener("state", (event) => {
  showState(event.detail);
  if (event.detail.state !== "connected") {
    for (const item of outbox.items) {
      if (item.status === "sending" || item.status === "waiting") setItem(item.client_id, { status: "queued" });
    }
  }
});
connection.addEventListener("frame", (event) => dispatchFrame(event.detail));
if (ui.retry) ui.retry.addEventListener("click", () => connection.reconnectNow());

// --- receiving messages ---------------------------------------------------------------------

let resumeFrom = null; // after_seq of the resume in flight, or null

function requestResume() {
  if (resumeFrom !== null) return;
  if (connection.send({ type: "resume", after_seq: timeline.lastSeq })) resumeFrom = timeline.lastSeq;
}

let unseen = 0;
const baseTitle = document.title;

/** Put messages in the list, keeping her scroll position unless she was already at the bottom. */
function receive(messages, { announce = false } = {}) {
  const stick = timeline.isAtBottom();
  let addedFromOthers = 0;
  let lastFromOthers = null;
  for (const message of messages) {
    // Her own message coming back (ack lost, sent from another tab, delivered by resume) takes
    // the place of its pending copy.
    if (message.author && message.author.id === me.id && message.client_id) {
      if (timeline.removePending(message.client_id)) outbox.remove(message.client_id);
    }
    const { added } = timeline.upsert(message);
    if (added && message.author && message.author.id !== me.id && message.body) {
      addedFromOthers += 1;
      lastFromOthers = message;
      clearTyping(message.author.id);
    }
  }
  if (stick) timeline.scrollToBottom();
  else if (addedFromOthers) showJump(addedFromOthers);
  if (addedFromOthers && document.visibilityState === "hidden") {
    unseen += addedFromOthers;
    document.title = `(${unseen}) ${baseTitle}`;
  }
  if (announce && ui.announcer && lastFromOthers) {
    ui.announcer.textContent =
      addedFromOthers === 1
        ? `${lastFromOthers.author.display_name}: ${lastFromOthers.body}`
        : `${addedFromOthers} new messages`;
  }
  updateOlderButton();
}

onFrame("room.joined", (frame) => {
  me = frame.you || me;
  timeline.viewer = me;
  timeline.startAt(frame.messages);
  receive(frame.messages);
  resetPresence(frame.present);
  // Catch up on anything between our lastSeq and the joined snapshot, and anything sent
  // between the snapshot and our subscription.
  resumeFrom = null;
  requestResume();
  flushOutbox();
});

onFrame("message.new", (frame) => {
  receive([frame.message], { announce: true });
  if (timeline.hasGap()) requestResume();
});

onFrame("message.updated", (frame) => {
  receive([frame.message]);
  // Her edit is stored: only now does the composer let go of the text.
  if (compose.editing && compose.editSent && frame.message.seq === compose.editing.seq) {
    compose.reset();
    ui.input.value = "";
    saveDraft();
  }
});

onFrame("messages.batch", (frame) => {
  const before = timeline.lastSeq;
  receive(frame.messages, { announce: true });
  resumeFrom = null;
  // Go on while the server says there is more, or while a gap remains and we are still
  // making progress (a message.new can overtake a batch).
  if (frame.more || (timeline.hasGap() && timeline.lastSeq > before)) requestResume();
});

onFrame("message.ack", (frame) => {
  // receive() swaps the pending copy for the stored one (matched on client_id).
  if (frame.message) receive([frame.message]);
  timeline.removePending(frame.client_id);
  outbox.remove(frame.client_id);
  if (timeline.hasGap()) requestResume();
});

onFrame("pong", () => {});

// --- errors ---------------------------------------------------------------------------------

const CONNECT_CODES = new Set(["not_authenticated", "not_found", "suspended", "too_many_sockets"]);

onFrame("error", (frame) => {
  const item = frame.client_id ? outbox.get(frame.client_id) : null;
  if (item) {
    handleSendError(item, frame);
    return;
  }
  if (CONNECT_CODES.has(frame.code) || !connection.joined) return; // the close shows it
  if (compose.editing && compose.editSent) {
    // The edit was refused: she is still editing, with her text where it was.
    compose.editSent = false;
    if (frame.code === "content_note_required" && frame.topic) compose.setNote(frame.topic, { focus: true });
  }
  if (["unknown_type", "bad_json", "bad_frame"].includes(frame.code)) {
    console.warn("kindred: server refused a frame", frame);
    return;
  }
  showError(frame.message);
});

function handleSendError(item, frame) {
  const id = item.client_id;
  if (frame.code === "rate_limited") {
    setItem(id, { status: "waiting" });
    const wait = Math.max(0.5, Number(frame.retry_after) || 1) * 1000;
    setTimeout(() => sendItem(id), wait);
    return;
  }
  if (frame.code === "server_error") {
    setItem(id, { status: "waiting" });
    setTimeout(() => sendItem(id), SERVER_ERROR_RETRY_MS);
    return;
  }
  if (frame.code === "content_note_required") {
    // Not sent: her words go back into the box, with the note picker open on the topic.
    timeline.removePending(id);
    outbox.remove(id);
    const current = ui.input.value;
    ui.input.value = current.trim() ? `${item.body}\n${current}` : item.body;
    saveDraft();
    compose.restore(item);
    compose.setNote(frame.topic || "", { focus: true });
    showError(frame.message);
    return;
  }
  // validation, muted, forbidden, frame_too_large…: she decides (retry or edit).
  setItem(id, { status: "failed", error: frame.message || "Something went wrong." });
  showError(frame.message);
}

function showError(message) {
  ui.error.textContent = message || "";
}

// --- sending --------------------------------------------------------------------------------

function setItem(clientId, changes) {
  const item = outbox.set(clientId, changes);
  if (item) timeline.updatePending(item);
  return item;
}

function sendItem(clientId) {
  const item = outbox.get(clientId);
  if (!item || item.status === "failed") return;
  const frame = { type: "message.send", client_id: item.client_id, body: item.body };
  if (item.reply_to) frame.reply_to = item.reply_to;
  if (item.content_note) frame.content_note = item.content_note;
  const sent = connection.send(frame);
  setItem(clientId, { status: sent ? "sending" : "queued" });
}

function flushOutbox() {
  for (const item of outbox.items) if (item.status !== "failed") sendItem(item.client_id);
}

function submit() {
  const body = ui.input.value;
  const text = body.trim();
  if (!text) return;
  if (text.length > config.maxBody) {
    showError(`Messages can be at most ${config.maxBody} characters (this one has ${text.length}).`);
    return;
  }
  showError("");
  if (compose.editing) {
    if (text === compose.editing.body.trim() && compose.note === compose.editing.content_note) {
      // Nothing changed: the server would store nothing and send no update.
      compose.reset();
      ui.input.value = "";
      saveDraft();
      return;
    }
    const edit = { type: "message.edit", seq: compose.editing.seq, body: text, content_note: compose.note };
    if (connection.send(edit)) compose.editSent = true;
    else showError("You're not connected just now: your edit will be here to save when you are.");
    return;
  }
  const item = outbox.add(body, compose.extras());
  compose.reset();
  timeline.addPending(item);
  ui.input.value = "";
  saveDraft();
  sendItem(item.client_id);
  timeline.scrollToBottom();
  hideJump();
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});

ui.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});

let lastTypingSent = 0;
ui.input.addEventListener("input", () => {
  saveDraft();
  if (ui.error.textContent && ui.input.value.trim().length <= config.maxBody) showError("");
  const now = Date.now();
  if (ui.input.value.trim() && now - lastTypingSent >= TYPING_SEND_INTERVAL_MS) {
    if (connection.send({ type: "typing" })) lastTypingSent = now;
  }
});

ui.list.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  const li = button && button.closest(".msg-pending");
  if (!li) return;
  const clientId = li.dataset.clientId;
  if (button.dataset.action === "retry") {
    showError("");
    setItem(clientId, { status: "queued", error: "" });
    sendItem(clientId);
  } else if (button.dataset.action === "edit") {
    showError("");
    const item = outbox.get(clientId);
    timeline.removePending(clientId);
    outbox.remove(clientId);
    if (item) {
      ui.input.value = item.body;
      saveDraft();
    }
    ui.input.focus();
  }
});

// The unsent draft survives a reload just like the queue does.
const draftKey = `kindred:draft:${config.me.id}:${config.room}`;
function saveDraft() {
  try {
    if (ui.input.value) sessionStorage.setItem(draftKey, ui.input.value);
    else sessionStorage.removeItem(draftKey);
  } catch {
    // storage blocked: nothing to do
  }
}
try {
  const draft = sessionStorage.getItem(draftKey);
  if (draft && !ui.input.value) ui.input.value = draft;
} catch {
  // storage blocked
}

// --- typing and presence --------------------------------------------------------------------

const typers = new Map(); // user id → {name, timer}

function renderTyping() {
  const names = [...typers.values()].map((t) => t.name);
  if (!names.length) ui.typing.textContent = "";
  else if (names.length === 1) ui.typing.textContent = `${names[0]} is typing…`;
  else if (names.length === 2) ui.typing.textContent = `${names[0]} and ${names[1]} are typing…`;
  else ui.typing.textContent = "Several people are typing…";
}

function clearTyping(userId) {
  const typer = typers.get(userId);
  if (!typer) return;
  clearTimeout(typer.timer);
  typers.delete(userId);
  renderTyping();
}

onFrame("typing", (frame) => {
  const user = frame.user;
  if (!user || user.id === me.id) return;
  clearTimeout(typers.get(user.id)?.timer);
  typers.set(user.id, { name: user.display_name, timer: setTimeout(() => clearTyping(user.id), TYPING_SHOW_MS) });
  renderTyping();
});

function renderPresence(present) {
  if (!Array.isArray(present)) return;
  // She comes first ("you"), then the others in the server's order.
  const ordered = [...present.filter((u) => u.id === me.id), ...present.filter((u) => u.id !== me.id)];
  const names = ordered.map((u) => {
    const name = u.id === me.id ? "you" : u.display_name;
    return u.role === "moderator" || u.role === "supervisor" ? `${name} (${u.role})` : name;
  });
  ui.presence.textContent = names.length ? `${names.length} here: ${names.join(", ")}` : "";
}

// The full list comes with room.joined; after that the server sends who came and went.
const present = new Map();
function resetPresence(list) {
  present.clear();
  for (const u of list || []) present.set(u.id, u);
  renderPresence([...present.values()]);
}
onFrame("presence", (frame) => resetPresence(frame.present));
onFrame("presence.joined", (frame) => { present.set(frame.user.id, frame.user); renderPresence([...present.values()]); });
onFrame("presence.left", (frame) => { present.delete(frame.user.id); renderPresence([...present.values()]); });

// --- scrolling, "new messages", earlier history -----------------------------------------------

let jumpCount = 0;
function showJump(added) {
  if (!ui.jump) return;
  jumpCount += added;
  ui.jump.textContent = jumpCount === 1 ? "1 new message ↓" : `${jumpCount} new messages ↓`;
  ui.jump.hidden = false;
}
function hideJump() {
  if (!ui.jump) return;
  jumpCount = 0;
  ui.jump.hidden = true;
}
if (ui.jump) {
  ui.jump.addEventListener("click", () => {
    timeline.scrollToBottom();
    hideJump();
    ui.input.focus();
  });
}
// Whether she is reading the newest messages. When the list or its box changes size (a pending
// item turns into an error, the keyboard opens, the error line under the composer appears), keep
// her at the bottom if she was there.
let pinned = true;
ui.scroller.addEventListener("scroll", () => {
  pinned = timeline.isAtBottom();
  if (pinned) hideJump();
}, { passive: true });
if ("ResizeObserver" in window) {
  const keepPinned = new ResizeObserver(() => {
    if (pinned) timeline.scrollToBottom();
  });
  keepPinned.observe(ui.scroller);
  keepPinned.observe(ui.list);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    unseen = 0;
    document.title = baseTitle;
  }
});

let olderExhausted = false;
function updateOlderButton() {
  const first = timeline.firstSeq;
  ui.older.hidden = olderExhausted || first === null || first <= 1;
}

ui.older.addEventListener("click", async () => {
  const first = timeline.firstSeq;
  if (first === null) return;
  ui.older.disabled = true;
  ui.older.textContent = "Loading…";
  try {
    const url = `${config.historyUrl}?before=${first}&limit=${HISTORY_PAGE}`;
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const data = await response.json();
    if (!response.ok) throw new Error((data.error && data.error.message) || "Could not load earlier messages.");
    const scroller = ui.scroller;
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    for (const message of data.messages) timeline.upsert(message);
    scroller.scrollTop = scroller.scrollHeight - fromBottom; // keep her place
    if (data.next_before === null) olderExhausted = true;
    ui.older.textContent = "Show earlier messages";
  } catch (err) {
    ui.older.textContent = "Couldn't load: try again";
    console.warn("kindred: history", err);
  } finally {
    ui.older.disabled = false;
    updateOlderButton();
  }
});

// --- start ------------------------------------------------------------------------------------

for (const item of outbox.items) timeline.addPending(item);
connection.start();
timeline.scrollToBottom();

// Later features (support cards, moderator notices) can wait for this to get the socket.
document.dispatchEvent(
  new CustomEvent("kindred:ready", {
    detail: { config, send: (frame) => connection.send(frame), onFrame, timeline },
  }),
);
