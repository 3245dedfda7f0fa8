// A private check-in (/checkins/<id>/): the member and the moderators write to each other over
// /ws/checkins/<id>/ (moderation/checkins/consumers.py). Lines are stored before anyone sees them;
// a reconnect asks only for what came after the last sequence number shown, so nothing is lost or
// doubled. User text goes in with textContent only.

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("checkin-config").textContent);
const ui = {
  list: $("checkin-messages"),
  state: $("checkin-state"),
  closed: $("checkin-closed"),
  form: $("checkin-composer"),
  input: $("checkin-input"),
  error: $("checkin-error"),
  close: $("checkin-close"),
};
const timeFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });

let socket = null;
let lastSeq = 0;
let attempt = 0;
let stopped = false;
let isClosed = false;
const pending = new Map(); // client_id → {li, body}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function newClientId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return "ci-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function mine(message) {
  return message.author && message.author.id === config.me;
}

function line(message) {
  const li = el("li", `checkin-msg${message.from_member ? " from-member" : " from-moderator"}${mine(message) ? " is-mine" : ""}`);
  li.dataset.seq = String(message.seq);
  const who = mine(message) ? "You" : message.from_member ? message.author.display_name : `${message.author.display_name} (moderator)`;
  const at = new Date(message.created_at);
  li.append(el("p", "checkin-meta", `${who} · ${Number.isNaN(at.getTime()) ? "" : timeFormat.format(at)}`));
  li.append(el("p", "checkin-body", message.body));
  return li;
}

function add(message) {
  if (message.seq <= lastSeq) return; // already shown (a resume overlapping a push)
  if (message.seq > lastSeq + 1 && socket && socket.readyState === WebSocket.OPEN) {
    // A gap: ask for what is missing first; this one comes again in the batch.
    socket.send(JSON.stringify({ type: "resume", after_seq: lastSeq }));
    return;
  }
  const waiting = mine(message) ? pending.get(message.client_id) : null;
  if (waiting) {
    waiting.li.remove();
    pending.delete(message.client_id);
  }
  ui.list.append(line(message));
  lastSeq = message.seq;
  ui.list.lastElementChild.scrollIntoView({ block: "nearest" });
}

function setState(state, text) {
  ui.state.dataset.state = state;
  ui.state.textContent = text;
}

function showClosed(frame) {
  isClosed = true;
  const by = frame.by_member ? (config.isMember ? "you" : config.memberName) : frame.closed_by ? `${frame.closed_by}` : "a moderator";
  ui.closed.textContent = config.isMember
    ? `This conversation was closed by ${by}. If you need support now, the Get help page has people you can talk to at any hour.`
    : `This check-in was closed by ${by}. Open a new one from her profile if needed.`;
  ui.closed.hidden = false;
  ui.form.hidden = true;
  ui.close.hidden = true;
  for (const { li } of pending.values()) li.remove();
  pending.clear();
}

function connect() {
  if (stopped) return;
  const proto = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${proto}://${location.host}${config.wsPath}?after_seq=${lastSeq}`);
  socket.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame.type === "checkin.joined") {
      attempt = 0;
      setState("connected", "Connected");
      for (const m of frame.messages) add(m);
      if (frame.checkin.closed_at) showClosed({ by_member: frame.checkin.closed_by === config.memberName, closed_by: frame.checkin.closed_by });
      // Lines typed while offline go now (the server ignores a resend it already has).
      for (const [clientId, { body }] of pending) socket.send(JSON.stringify({ type: "checkin.send", client_id: clientId, body }));
    } else if (frame.type === "checkin.message" || frame.type === "checkin.ack") {
      add(frame.message);
    } else if (frame.type === "checkin.batch") {
      for (const m of frame.messages) add(m);
    } else if (frame.type === "checkin.closed") {
      showClosed(frame);
    } else if (frame.type === "error") {
      if (["not_authenticated", "not_found", "forbidden"].includes(frame.code)) stopped = true;
      if (frame.client_id && pending.has(frame.client_id)) {
        const failed = pending.get(frame.client_id);
        failed.li.remove();
        pending.delete(frame.client_id);
        if (!ui.input.value) ui.input.value = failed.body; // nothing she wrote is lost
      }
      if (frame.code === "closed") showClosed({});
      ui.error.textContent = frame.message || "That didn't work.";
    }
  });
  socket.addEventListener("close", (event) => {
    if (stopped || [4401, 4403, 4404, 4410].includes(event.code)) {
      stopped = true;
      setState("stopped", event.code === 4401 ? "Logged out: log in again" : "This conversation isn't available");
      return;
    }
    const delay = Math.min(15000, 500 * 2 ** attempt) * (0.5 + Math.random());
    attempt += 1;
    setState("reconnecting", `Reconnecting in ${Math.max(1, Math.round(delay / 1000))} s… (your messages are kept)`);
    setTimeout(connect, delay);
  });
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = ui.input.value.trim();
  if (!body || isClosed) return;
  ui.error.textContent = "";
  const clientId = newClientId();
  const li = el("li", "checkin-msg is-mine is-pending");
  li.append(el("p", "checkin-meta", "You · sending…"), el("p", "checkin-body", body));
  ui.list.append(li);
  pending.set(clientId, { li, body });
  ui.input.value = "";
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "checkin.send", client_id: clientId, body }));
});

ui.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.form.requestSubmit();
  }
});

ui.close.addEventListener("click", () => {
  const question = config.isMember
    ? "Close this conversation? The moderators won't be able to write to you here any more."
    : `Close the check-in with ${config.memberName}? Neither of you can write in it afterwards.`;
  if (!window.confirm(question)) return;
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "checkin.close" }));
});

setInterval(() => {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
}, 25000);
connect();
