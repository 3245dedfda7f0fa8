// Building message elements. User text only ever reaches the DOM through textContent / text
// nodes; links are real <a> elements whose href passed through the URL parser and is http(s).

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'"*_~]$/;

const ROLE_LABELS = { moderator: "Moderator", supervisor: "Supervisor" };

/** An http/https URL string, normalised by the URL parser, or null. */
export function safeHttpUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

// "see https://example.org/a_(b))." → "https://example.org/a_(b)": sentence punctuation and an
// unbalanced closing bracket belong to the sentence, not the link.
function trimUrl(raw) {
  let url = raw;
  for (;;) {
    if (TRAILING_PUNCTUATION.test(url)) {
      url = url.slice(0, -1);
      continue;
    }
    const last = url.at(-1);
    const pairs = { ")": "(", "]": "[", "}": "{" };
    if (last in pairs) {
      const opens = url.split(pairs[last]).length - 1;
      const closes = url.split(last).length - 1;
      if (closes > opens) {
        url = url.slice(0, -1);
        continue;
      }
    }
    return url;
  }
}

/** Append `text` to `parent`, turning http/https URLs into safe links. */
export function appendLinkified(parent, text) {
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const raw = trimUrl(match[0]);
    const href = safeHttpUrl(raw);
    if (!href || raw.length <= "https://".length) continue;
    if (match.index > last) parent.append(document.createTextNode(text.slice(last, match.index)));
    const a = document.createElement("a");
    a.href = href;
    a.rel = "nofollow noopener ugc";
    a.target = "_blank";
    a.textContent = raw;
    parent.append(a);
    last = match.index + raw.length;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
});
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

function timeElement(iso) {
  const el = document.createElement("time");
  el.className = "msg-time";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return el;
  el.dateTime = date.toISOString();
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  el.textContent = (sameDay ? timeOnly : dayAndTime).format(date);
  el.title = fullDate.format(date);
  return el;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function metaLine({ author, own, createdAt }) {
  const meta = el("p", "msg-meta");
  if (author) {
    meta.append(el("span", "msg-author", own ? "You" : author.display_name));
    const role = ROLE_LABELS[author.role];
    if (role) meta.append(" ", el("span", `badge badge-${author.role}`, role));
    meta.append(" ");
  }
  if (createdAt) meta.append(timeElement(createdAt));
  return meta;
}

/**
 * Fill `li` with `message` as `viewer` may see it (the server already redacted it):
 *   held, not ours and not a moderator → nothing (the li stays, hidden, so seq stays contiguous)
 *   hidden without text → "Removed by a moderator"
 *   held and ours → text plus "Waiting for a moderator to check this"
 */
export function fillMessage(li, message, viewer) {
  const author = message.author || null;
  const own = Boolean(author && author.id === viewer.id);
  const state = message.state || "visible";
  li.className = "msg";
  li.dataset.seq = String(message.seq);
  li.dataset.state = state;
  li.id = `msg-${message.seq}`;
  li.hidden = false;
  li.replaceChildren();
  if (own) li.classList.add("msg-own");
  if (author && ROLE_LABELS[author.role]) li.classList.add("msg-staff");

  if (state === "held" && !message.body) {
    li.hidden = true;
    return li;
  }
  if (state === "hidden" && !message.body) {
    li.classList.add("msg-removed");
    li.append(el("p", "msg-removed-text", "Removed by a moderator"));
    li.append(metaLine({ author: null, own: false, createdAt: message.created_at }));
    return li;
  }
  li.append(metaLine({ author, own, createdAt: message.created_at }));
  const body = el("p", "msg-body");
  appendLinkified(body, message.body || "");
  li.append(body);
  if (state === "held") {
    li.classList.add("msg-held");
    li.append(el("p", "msg-note", own ? "Waiting for a moderator to check this" : "Held for review: only you and the author see it"));
  } else if (state === "hidden") {
    li.classList.add("msg-hidden-staff");
    li.append(el("p", "msg-note", "Removed by a moderator: members don't see it"));
  }
  return li;
}

export function renderMessage(message, viewer) {
  return fillMessage(document.createElement("li"), message, viewer);
}

const PENDING_STATUS = {
  sending: "Sending…",
  queued: "Not sent yet: it will go as soon as you're connected",
  waiting: "Sending in a moment…",
  failed: "Not sent",
};

/** An own message that has no seq yet (sending, queued offline, or failed). */
export function renderPending(item, viewer) {
  const li = el("li", "msg msg-own msg-pending");
  li.dataset.clientId = item.client_id;
  li.append(metaLine({ author: viewer, own: true, createdAt: null }));
  const body = el("p", "msg-body");
  appendLinkified(body, item.body);
  li.append(body);
  li.append(el("p", "msg-status"));
  updatePending(li, item);
  return li;
}

export function updatePending(li, item) {
  li.dataset.status = item.status;
  li.classList.toggle("msg-failed", item.status === "failed");
  const status = li.querySelector(".msg-status");
  status.replaceChildren();
  const label = item.status === "failed" && item.error ? `Not sent: ${item.error}` : PENDING_STATUS[item.status];
  status.append(el("span", "msg-status-text", label));
  if (item.status === "failed") {
    const retry = el("button", "small-button", "Try again");
    retry.type = "button";
    retry.dataset.action = "retry";
    const edit = el("button", "small-button", "Edit");
    edit.type = "button";
    edit.dataset.action = "edit";
    status.append(" ", retry, " ", edit);
  }
}
