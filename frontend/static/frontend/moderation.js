// Moderation queue: renders /api/moderation/queue and refreshes when the live feed says so.
// All user text goes in with textContent.

const list = document.getElementById("queue");
const empty = document.getElementById("queue-empty");
const feedState = document.getElementById("feed-state");
const backlog = document.getElementById("backlog");
const classifier = document.getElementById("classifier-status");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function minutes(seconds) {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function describeReason(reason) {
  if (reason.rule) return reason.span ? `${reason.rule}: “${reason.span}”` : reason.rule;
  if (reason.score) return `${reason.score} ${reason.value} ≥ ${reason.threshold}`;
  return JSON.stringify(reason);
}

function renderItem(item) {
  const li = el("li", `queue-item priority-${item.priority}${item.escalated ? " escalated" : ""}`);
  li.dataset.flagId = item.id;
  const head = el("div", "queue-head");
  head.append(
    el("span", "badge", item.escalated ? "RISK – urgent" : `${item.category} · ${item.priority}`),
    el("span", "room", item.message.room_name),
    el("span", item.target_missed ? "wait missed" : "wait",
      `waiting ${minutes(item.waiting_seconds)} (target ${minutes(item.target_seconds)})${item.target_missed ? " – target missed" : ""}`),
  );
  const body = el("blockquote", "queue-body");
  body.append(el("p", "author", item.message.author.display_name || "(erased member)"), el("p", "text", item.message.body));
  const reasons = el("ul", "reasons");
  for (const r of item.reasons) reasons.append(el("li", null, describeReason(r)));
  const meta = el("p", "meta", `source: ${item.sources.join(", ")}${item.report_count ? ` · ${item.report_count} report(s)` : ""} · message #${item.message.seq} (${item.message.state})`);
  li.append(head, body, reasons, meta);
  return li;
}

async function refresh() {
  const response = await fetch("/api/moderation/queue", { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const data = await response.json();
  list.replaceChildren(...data.items.map(renderItem));
  empty.hidden = data.items.length > 0;
  backlog.textContent = data.moderation_backlog;
  classifier.textContent = data.classifier;
}

let attempt = 0;
function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${proto}://${location.host}/ws/moderation/`);
  socket.addEventListener("open", () => { attempt = 0; feedState.textContent = "Live"; refresh(); });
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "flag.new" || frame.type === "flag.urgent") refresh();
    if (frame.type === "flag.urgent") document.title = "⚠ Urgent · Moderation queue · Kindred";
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4401 || event.code === 4403) { feedState.textContent = "Not allowed"; return; }
    const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random());
    attempt += 1;
    feedState.textContent = `Reconnecting in ${Math.round(delay / 1000)}s…`;
    setTimeout(connect, delay);
  });
}

refresh();
connect();
setInterval(refresh, 30000);
