// Building message elements. User text only ever reaches the DOM through textContent / text
// nodes; links are real <a> elements whose href passed through the URL parser and is http(s).

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'"*_~]$/;

import { contactAction, contactHref, safeWebUrl } from "../helplines.js";

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

// --- what the member features need to draw a message -------------------------------------------
// Set by chat.js / member-features.js; read on every (re)draw so a message.updated keeps her view.

export const REACTIONS = [
  { kind: "me_too", label: "Me too" },
  { kind: "hug", label: "Hug" }, // not "Send a hug": the composer's button is "Send"
  { kind: "thanks", label: "Thank you" },
];
const REACTION_WORDS = { me_too: "Me too", hug: "Sending a hug", thanks: "Thank you" };

export const renderSettings = {
  collapseTopics: new Set(), // content-note topics she reads only after a tap
  topicLabels: {}, // topic → "Baby loss"
  editWindowMs: 15 * 60 * 1000,
  revealed: new Set(), // seqs whose content note she opened during this visit
  openMenu: null, // seq whose options are open
  filtered: new Map(), // user id → "mute" | "block", as she set it during this visit
};

export function topicLabel(topic) {
  return renderSettings.topicLabels[topic] || String(topic).replace(/_/g, " ");
}

function button(className, text, act, extra = {}) {
  const b = el("button", className, text);
  b.type = "button";
  b.dataset.act = act;
  b.dataset.focusKey = extra.focusKey || act;
  for (const [k, v] of Object.entries(extra.data || {})) b.dataset[k] = v;
  return b;
}

function hidden(text) {
  return el("span", "visually-hidden", text);
}

/** Whether she may still edit or delete her own message (the server checks again). */
export function editableUntil(message, viewer) {
  const own = message.author && message.author.id === viewer.id;
  if (!own || message.resource || !["visible", "held"].includes(message.state || "visible")) return 0;
  const created = Date.parse(message.created_at);
  if (Number.isNaN(created)) return 0;
  const until = created + renderSettings.editWindowMs;
  return until > Date.now() ? until : 0;
}

function quoteElement(quote) {
  const q = button("msg-quote", undefined, "quote", { data: { target: String(quote.seq) } });
  q.append(hidden("In reply to "));
  q.append(el("span", "msg-quote-author", quote.author || "a member"));
  q.append(hidden(": "));
  q.append(el("span", "msg-quote-text", quote.excerpt || "a message that is no longer available"));
  return q;
}

function resourceCard(resource) {
  const card = el("div", "resource-card");
  card.append(el("p", "resource-kicker", "Shared by a moderator"));
  card.append(el("p", "resource-name", resource.name));
  if (resource.when) card.append(el("p", "resource-when", resource.when));
  if (resource.hours) card.append(el("p", "resource-hours", `Open ${resource.hours}`));
  const actions = el("p", "resource-actions");
  const href = contactHref(resource.contact);
  if (href) {
    const a = el("a", "resource-contact");
    a.href = href;
    a.textContent = href.startsWith("sms:") ? resource.contact : `${contactAction(href)} ${resource.contact}`;
    actions.append(a);
  } else if (resource.contact) {
    actions.append(el("span", "resource-contact-text", resource.contact));
  }
  const web = safeWebUrl(resource.url);
  if (web) {
    const a = el("a", "resource-web");
    a.href = web;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = "Website";
    a.append(hidden(` of ${resource.name} (opens in a new tab)`));
    actions.append(a);
  }
  if (actions.childNodes.length) card.append(actions);
  return card;
}

/** The reactions she may give this message. Nobody reacts to her own message; a message that
 * shows risk takes supportive reactions only, never "me too" (the server refuses both too:
 * chat/actions.py check_toggle_reaction). */
function offeredReactions(message, viewer) {
  const own = Boolean(message.author && viewer && message.author.id === viewer.id);
  return own ? [] : REACTIONS.filter((r) => !(message.supportive_only && r.kind === "me_too"));
}

/**
 * What others gave this message, for everyone to see: the counts ("Me too 2 · Hug 1") on a
 * disclosure whose names open on a tap. Giving a reaction is in the message's menu, so this is
 * one stop for the keyboard, and only on a message someone reacted to.
 */
function reactorsList(message, viewer) {
  const reactions = message.reactions || {};
  const lines = REACTIONS.map((r) => [r, reactions[r.kind]]).filter(([, e]) => e && e.count);
  if (!lines.length) return null;
  const total = lines.reduce((n, [, e]) => n + e.count, 0);
  const details = el("details", "msg-reactors");
  const summary = el("summary");
  for (const [r, entry] of lines) {
    const mine = Array.isArray(entry.by) && entry.by.includes(viewer.display_name);
    const chip = el("span", mine ? "reaction-chip reaction-chip-mine" : "reaction-chip");
    chip.append(el("span", "reaction-label", r.label), " ", el("span", "reaction-count", String(entry.count)));
    // Not colour alone: "(you)" says which ones are hers.
    if (mine) chip.append(" ", el("span", "reaction-you", "(you)"));
    summary.append(chip, " ");
  }
  summary.append(el("span", "msg-reactors-label", total === 1 ? "Who reacted (1)" : `Who reacted (${total})`));
  details.append(summary);
  const list = el("ul");
  for (const [r, entry] of lines) {
    const li = el("li");
    li.append(el("strong", null, `${REACTION_WORDS[r.kind]}: `), (entry.by || []).join(", "));
    list.append(li);
  }
  details.append(list);
  return details;
}

function menuItem(className, text, act, extra = {}) {
  const b = button(className, text, act, extra);
  b.setAttribute("role", extra.role || "menuitem");
  // Arrow keys move between items (member-features.js); Tab leaves the menu.
  b.tabIndex = -1;
  return b;
}

/**
 * One "⋯" button per message, and everything she can do to it in its menu (WAI-ARIA menu
 * button): the support reactions (ticked when given), Reply, then Edit and Delete on her own
 * message or Report and Mute/block on someone else's. One tab stop per message instead of six.
 * Returns [] when the message offers nothing.
 */
function actionsMenu(message, viewer, seq, own, editUntil) {
  const author = message.author;
  const name = author ? author.display_name : "";
  const state = message.state || "visible";
  const items = [];
  if (state === "visible") {
    const reactions = message.reactions || {};
    for (const r of offeredReactions(message, viewer)) {
      const entry = reactions[r.kind] || { count: 0, by: [] };
      const mine = Array.isArray(entry.by) && entry.by.includes(viewer.display_name);
      const b = menuItem("menu-item menu-reaction", undefined, "react", {
        role: "menuitemcheckbox", focusKey: `react-${r.kind}`, data: { kind: r.kind },
      });
      b.setAttribute("aria-checked", mine ? "true" : "false");
      const tick = el("span", "menu-tick", mine ? "✓" : "");
      tick.setAttribute("aria-hidden", "true");
      b.append(tick, el("span", null, REACTION_WORDS[r.kind]));
      items.push(b);
    }
    items.push(menuItem("menu-item", "Reply", "reply"));
  }
  if (own && editUntil) {
    items.push(menuItem("menu-item", "Edit", "edit"), menuItem("menu-item menu-danger", "Delete", "delete"));
  } else if (!own && state === "visible") {
    items.push(menuItem("menu-item", "Report this message", "report"));
    if (author && !ROLE_LABELS[author.role]) items.push(menuItem("menu-item", `Mute or block ${name}…`, "filter"));
  }
  if (!items.length) return [];
  const open = renderSettings.openMenu === seq;
  const toggle = button("msg-options", undefined, "options");
  toggle.id = `msg-${seq}-options`;
  toggle.setAttribute("aria-haspopup", "menu");
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
  toggle.setAttribute("aria-controls", `msg-${seq}-menu`);
  const dots = el("span", "msg-options-dots", "⋯");
  dots.setAttribute("aria-hidden", "true");
  toggle.append(dots, hidden(own ? "Options for your message" : `Options for ${name}'s message`));
  const menu = el("div", "msg-menu");
  menu.id = `msg-${seq}-menu`;
  menu.setAttribute("role", "menu");
  // Not aria-labelledby "⋯": "Options for your message" would also answer to the composer's
  // label, "Your message", for tools that find fields by label.
  menu.setAttribute("aria-label", "Message options");
  menu.hidden = !open;
  const reactionItems = items.filter((b) => b.dataset.act === "react");
  if (reactionItems.length) {
    const group = el("div", "menu-group");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Support reactions");
    group.append(...reactionItems);
    menu.append(group);
  }
  menu.append(...items.filter((b) => b.dataset.act !== "react"));
  if (own && editUntil) {
    // Not inside the menu (a menu holds only items): said once, under it, while it is open.
    toggle.setAttribute("aria-describedby", `msg-${seq}-menu-help`);
    toggle.dataset.editUntil = String(editUntil);
    menu.dataset.editUntil = String(editUntil);
  }
  return [toggle, menu];
}

/**
 * Fill `li` with `message` as `viewer` may see it (the server already redacted it):
 *   held, not ours and not a moderator → nothing (the li stays, hidden, so seq stays contiguous)
 *   hidden without text → "Removed by a moderator"
 *   deleted → "Message deleted"
 *   hidden_for_you (she muted or blocked the author) → one line saying so, with the undo
 *   held and ours → text plus "Waiting for a moderator to check this"
 * A redraw (message.updated) keeps focus on the same control and an opened content note open.
 */
export function fillMessage(li, message, viewer) {
  const author = message.author || null;
  const own = Boolean(author && author.id === viewer.id);
  const state = message.state || "visible";
  const seq = message.seq;
  const active = document.activeElement;
  const focusKey = active && active !== li && li.contains(active) ? active.dataset.focusKey : null;
  li._message = message;
  li.className = "msg";
  li.dataset.seq = String(seq);
  li.dataset.state = state;
  if (author) li.dataset.authorId = String(author.id);
  else delete li.dataset.authorId;
  li.id = `msg-${seq}`;
  li.tabIndex = -1; // a quoted reply can take her here
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
  if (state === "deleted") {
    li.classList.add("msg-removed", "msg-deleted");
    li.append(el("p", "msg-removed-text", own ? "You deleted this message" : "Message deleted"));
    li.append(metaLine({ author, own, createdAt: message.created_at }));
    return li;
  }
  if (message.hidden_for_you) {
    // The server withheld the words; say so plainly rather than offer a "Show" that can't.
    li.classList.add("msg-filtered");
    const name = author ? author.display_name : "this member";
    const kind = author ? renderSettings.filtered.get(author.id) : null;
    const said = kind === "block" ? `You blocked ${name}` : kind === "mute" ? `You muted ${name}` : `You muted or blocked ${name}`;
    const line = el("p", "msg-filtered-text", `Message hidden. ${said}.`);
    const undo = button("msg-act", kind === "block" ? `Unblock ${name}` : `Unmute ${name}`, "unfilter");
    li.append(line, undo);
    restoreFocus(li, focusKey);
    return li;
  }

  const meta = metaLine({ author, own, createdAt: message.created_at });
  if (message.edited) meta.append(" ", el("span", "msg-edited", "edited"));
  li.append(meta);
  if (message.reply_to) li.append(quoteElement(message.reply_to));

  const content = el("div", "msg-content");
  content.id = `msg-${seq}-content`;
  if (message.resource) {
    li.classList.add("msg-resource");
    content.append(resourceCard(message.resource));
  } else {
    const body = el("p", "msg-body");
    appendLinkified(body, message.body || "");
    content.append(body);
  }
  const note = message.content_note;
  if (note) {
    li.classList.add("msg-noted");
    const collapses = renderSettings.collapseTopics.has(note) && !own;
    if (collapses) {
      const open = renderSettings.revealed.has(seq);
      const toggle = button("cn-toggle", undefined, "note", {});
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      toggle.setAttribute("aria-controls", content.id);
      toggle.append(el("span", "cn-label", `Content note: ${topicLabel(note)}`));
      toggle.append(el("span", "cn-hint", open ? "Hide" : "Tap to read"));
      content.hidden = !open;
      li.append(toggle);
    } else {
      li.append(el("p", "cn-tag", `Content note: ${topicLabel(note)}`));
    }
  }
  li.append(content);
  if (state === "held") {
    li.classList.add("msg-held");
    li.append(el("p", "msg-note", own ? "Waiting for a moderator to check this" : "Held for review: only you and the author see it"));
  } else if (state === "hidden") {
    li.classList.add("msg-hidden-staff");
    li.append(el("p", "msg-note", "Removed by a moderator: members don't see it"));
  }
  const editUntil = editableUntil(message, viewer);
  if (state === "visible" || (state === "held" && editUntil)) {
    // "⋯" at the top right of the message; its menu opens right under the name line.
    const [toggle, menu] = actionsMenu(message, viewer, seq, own, editUntil);
    if (toggle) {
      meta.append(toggle);
      meta.after(menu);
      if (editUntil) {
        const help = el("p", "menu-help", "You can change or delete a message for 15 minutes after sending it.");
        help.id = `msg-${seq}-menu-help`;
        help.hidden = menu.hidden;
        menu.after(help);
      }
    }
  }
  if (state === "visible") {
    const who = reactorsList(message, viewer);
    if (who) li.append(who);
  }
  restoreFocus(li, focusKey);
  return li;
}

function restoreFocus(li, focusKey) {
  if (!focusKey) return;
  const target = li.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
  if (target) target.focus({ preventScroll: true });
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
  if (item.reply_quote) li.append(el("p", "msg-pending-context", `Reply to ${item.reply_quote.author || "a member"}`));
  if (item.content_note) li.append(el("p", "cn-tag", `Content note: ${topicLabel(item.content_note)}`));
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
