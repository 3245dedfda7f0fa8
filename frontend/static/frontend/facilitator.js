// Facilitator side panel: live prompts from the session's prompt engine, for the facilitator only.
// Frames arrive privately (`facilitator.prompt`, `facilitator.prompt_closed`) and reach us as
// `kindred:<type>` DOM events from chat/frames.js. Every prompt can be sent as is, edited and sent,
// or dismissed, through /api/facilitation/prompts/<id>/{send,dismiss}. The server decides who is a
// facilitator; this file only shows what it is given. User text goes in with textContent.

import { onFrame } from "./chat/frames.js";

const config = JSON.parse(document.getElementById("chat-config").textContent);
const panel = document.getElementById("facilitator-panel");
const csrfInput = panel && panel.querySelector("input[name=csrfmiddlewaretoken]");
const SIGNAL_LABELS = {
  opening: "Opening", time_check: "Time check", closing: "Closing", newcomer: "Newcomer",
  silence: "Quiet room", unanswered: "Unanswered", negativity: "Low mood", drift: "Off topic",
  dominance: "Balance", check_in: "Private check-in",
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

const cards = new Map(); // prompt id → <li>
let list = null;
let empty = null;
let title = null;

function build() {
  panel.replaceChildren(...[...panel.childNodes].filter((n) => n === csrfInput));
  const head = el("div", "fp-head");
  title = el("h2", "fp-title", "Facilitator prompts");
  title.id = "facilitator-heading";
  const toggle = el("button", "small-button fp-toggle", "Hide");
  toggle.type = "button";
  toggle.setAttribute("aria-expanded", "true");
  toggle.setAttribute("aria-controls", "facilitator-list");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide" : `Show (${cards.size})`;
    list.hidden = !open;
    empty.hidden = !open || cards.size > 0;
  });
  head.append(title, toggle);
  empty = el("p", "fp-empty", "No suggestions right now. They appear here while your session runs; only you can see them.");
  list = el("ol", "fp-list");
  list.id = "facilitator-list";
  list.setAttribute("aria-live", "polite");
  panel.append(head, empty, list);
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfInput ? csrfInput.value : "" },
    body: JSON.stringify(body || {}),
  });
  let data = null;
  try { data = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : `Something went wrong (${response.status}).`;
    const err = new Error(message);
    err.code = data && data.error ? data.error.code : "server_error";
    throw err;
  }
  return data;
}

function render(prompt) {
  const li = el("li", `fp-card fp-${prompt.signal}`);
  li.dataset.promptId = prompt.id;
  const head = el("p", "fp-card-head");
  head.append(el("span", "badge", SIGNAL_LABELS[prompt.signal] || prompt.signal));
  if (prompt.target) head.append(el("span", "fp-target", ` about ${prompt.target}`));
  const reason = el("p", "fp-reason", `Why: ${prompt.reason}`);
  const textId = `fp-text-${prompt.id}`;
  const label = el("label", "fp-label", prompt.private ? `Goes privately to ${prompt.target || "her"} only` : "Posts in the room as you");
  label.htmlFor = textId;
  const text = el("textarea", "fp-text");
  text.id = textId;
  text.rows = 3;
  text.maxLength = config.maxBody || 2000;
  text.value = prompt.text;
  text.readOnly = true;
  const error = el("p", "fp-error");
  error.setAttribute("role", "alert");
  const actions = el("div", "fp-actions");
  const send = el("button", "primary", "Send");
  const edit = el("button", "secondary", "Edit & send");
  const dismiss = el("button", "small-button", "Dismiss");
  for (const b of [send, edit, dismiss]) b.type = "button";
  const buttons = [send, edit, dismiss];
  const busy = (on) => { for (const b of buttons) b.disabled = on; };

  async function act(kind) {
    error.textContent = "";
    busy(true);
    try {
      if (kind === "dismiss") {
        await post(`/api/facilitation/prompts/${prompt.id}/dismiss`);
      } else {
        const body = text.readOnly ? {} : { text: text.value };
        await post(`/api/facilitation/prompts/${prompt.id}/send`, body);
      }
      remove(prompt.id);
    } catch (err) {
      error.textContent = err.message;
      if (err.code === "conflict" || err.code === "not_found") setTimeout(() => remove(prompt.id), 4000);
      busy(false);
    }
  }

  send.addEventListener("click", () => act("send"));
  edit.addEventListener("click", () => {
    if (text.readOnly) {
      text.readOnly = false;
      edit.textContent = "Send edited";
      send.hidden = true;
      text.focus();
      text.setSelectionRange(text.value.length, text.value.length);
    } else {
      act("send");
    }
  });
  dismiss.addEventListener("click", () => act("dismiss"));
  actions.append(send, edit, dismiss);
  li.append(head, reason, label, text, actions, error);
  return li;
}

function add(prompt) {
  if (prompt.session.room !== config.room || prompt.state !== "shown" || cards.has(prompt.id)) return;
  const li = render(prompt);
  cards.set(prompt.id, li);
  list.append(li);
  empty.hidden = true;
  panel.hidden = false;
}

function remove(id) {
  const li = cards.get(id);
  if (!li) return;
  li.remove();
  cards.delete(id);
  empty.hidden = cards.size > 0 || list.hidden;
}

async function refresh() {
  try {
    const response = await fetch(`/api/facilitation/prompts?room=${encodeURIComponent(config.room)}`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const data = await response.json();
    if (!data.facilitating) {
      if (cards.size === 0) panel.hidden = true;
      return;
    }
    title.textContent = `Facilitator prompts: ${data.session.title}`;
    const waiting = new Set(data.prompts.map((p) => p.id));
    for (const id of [...cards.keys()]) if (!waiting.has(id)) remove(id);
    for (const prompt of data.prompts) add(prompt);
    panel.hidden = false;
  } catch (err) {
    console.warn("kindred: facilitator prompts", err);
  }
}

if (panel) {
  build();
  document.addEventListener("kindred:facilitator.prompt", (event) => add(event.detail.prompt));
  document.addEventListener("kindred:facilitator.prompt_closed", (event) => remove(event.detail.prompt.id));
  document.addEventListener("kindred:session.started", () => refresh());
  // Prompts pushed while the socket was down are fetched again on every (re)join.
  onFrame("room.joined", () => refresh());
  refresh();
}
