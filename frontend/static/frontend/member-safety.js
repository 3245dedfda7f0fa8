// The member's private safety frames on the room page (imported by chat.js):
//
//   support.card  a calm card with helplines, right after she posts something that shows risk;
//                 reopened by the header's "Get help" button for the rest of the visit
//   notice        a private, dismissible banner (a moderator's note, a report outcome, posting
//                 paused or resumed): never a chat message, nobody else sees it
//   error muted   a calm explanation where she types, instead of a red error
//
// Every piece of server text goes in with textContent. Handlers are registered on `kindred:ready`,
// i.e. after the chat core's own, so ours run after its `error` handler.

import { contactAction, contactHref, safeWebUrl } from "./helplines.js";

const CARD_KEY = "kindred:support-card";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// --- support card -----------------------------------------------------------------------------

let sendFrame = null;
let dialog = null;
let lastCard = null;
let returnFocusTo = null;
const shownCards = new Set();

function helplineItem(line) {
  const li = el("li", "helpline");
  li.append(el("p", "helpline-name", line.name));
  const about = [line.when, line.hours].filter(Boolean).join(" · ");
  if (about) li.append(el("p", "helpline-when", about));
  const actions = el("p", "helpline-actions");
  const href = contactHref(line.contact);
  if (href) {
    const a = el("a", "helpline-contact");
    a.href = href;
    // "Text SHOUT to 85258" already says what to do; a number gets a verb in front of it.
    const verb = contactAction(href);
    a.textContent = href.startsWith("sms:") ? line.contact : `${verb} ${line.contact}`;
    a.setAttribute("aria-label", `${href.startsWith("sms:") ? line.contact : `${verb} ${line.name} on ${line.contact}`}`);
    actions.append(a);
  } else if (line.contact) {
    actions.append(el("span", "helpline-contact-text", line.contact));
  }
  const web = safeWebUrl(line.url);
  if (web) {
    const a = el("a", "helpline-web");
    a.href = web;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = new URL(web).hostname.replace(/^www\./, "");
    a.append(el("span", "visually-hidden", ` (${line.name} website, opens in a new tab)`));
    actions.append(a);
  }
  li.append(actions);
  return li;
}

function buildDialog() {
  const d = el("dialog", "support-card");
  d.id = "support-card";
  d.setAttribute("aria-labelledby", "support-card-title");
  d.setAttribute("aria-describedby", "support-card-text");
  const body = el("div", "support-card-body");
  const title = el("h2", "support-card-title");
  title.id = "support-card-title";
  title.tabIndex = -1;
  const text = el("p", "support-card-text");
  text.id = "support-card-text";
  const list = el("ul", "helplines");
  list.setAttribute("aria-label", "People you can talk to now");
  const more = el("p", "support-card-more");
  const moreLink = el("a", null, "All support options and opening hours");
  moreLink.href = "/help/";
  more.append(moreLink);
  body.append(title, text, list, more);

  const bar = el("div", "support-card-actions");
  const close = el("button", "primary support-card-close", "Close");
  close.type = "button";
  close.addEventListener("click", () => d.close());
  const exit = el("button", "quick-exit-inline", "Quick exit");
  exit.type = "button";
  exit.dataset.quickExit = "";
  bar.append(close, exit);
  d.append(body, bar);
  d.addEventListener("close", () => {
    const target = returnFocusTo;
    returnFocusTo = null;
    if (target && target.isConnected && typeof target.focus === "function") target.focus({ preventScroll: true });
  });
  document.body.append(d);
  return d;
}

function fillDialog(card) {
  dialog = dialog || buildDialog();
  dialog.querySelector("#support-card-title").textContent = card.title || "You're not on your own";
  dialog.querySelector("#support-card-text").textContent = card.text || "";
  const list = dialog.querySelector(".helplines");
  const helplines = Array.isArray(card.helplines) ? card.helplines : [];
  list.replaceChildren(...helplines.filter((h) => h && h.name).map(helplineItem));
  // Nobody on duty: the services come first, then the words (which say nobody is on duty).
  const text = dialog.querySelector("#support-card-text");
  if (card.lead_with_helplines) text.before(list);
  else list.before(text);
}

export function openSupportCard(card = lastCard) {
  if (!card) return false;
  fillDialog(card);
  if (dialog.open) return true;
  const active = document.activeElement;
  returnFocusTo = active && active !== document.body ? active : document.getElementById("composer-input");
  dialog.showModal();
  // The title first, so a screen reader starts at the beginning, not at the first phone number.
  dialog.querySelector("#support-card-title").focus();
  dialog.querySelector(".support-card-body").scrollTop = 0;
  return true;
}

function receiveCard(card) {
  const key = `${card.room}:${card.message_seq}`;
  lastCard = card;
  try {
    sessionStorage.setItem(CARD_KEY, JSON.stringify(card));
  } catch {
    // storage blocked: the card still works for this page
  }
  if (shownCards.has(key)) return;
  shownCards.add(key);
  openSupportCard(card);
}

function restoreCard() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(CARD_KEY) || "null");
    if (stored && typeof stored === "object" && Array.isArray(stored.helplines)) {
      lastCard = stored;
      shownCards.add(`${stored.room}:${stored.message_seq}`);
    }
  } catch {
    // nothing stored, or storage blocked
  }
}

// --- notices ------------------------------------------------------------------------------------

const seenNotices = new Set();
let noticeBox = null;

function ensureNoticeBox() {
  if (noticeBox) return noticeBox;
  noticeBox = el("div", "notices");
  noticeBox.id = "notices";
  noticeBox.setAttribute("role", "status");
  noticeBox.setAttribute("aria-label", "Private notes for you");
  const timeline = document.getElementById("timeline");
  if (timeline && timeline.parentNode) timeline.parentNode.insertBefore(noticeBox, timeline);
  else (document.querySelector("main") || document.body).prepend(noticeBox);
  return noticeBox;
}

function showNotice(frame) {
  if (frame.id !== undefined && seenNotices.has(frame.id)) return;
  if (frame.id !== undefined) seenNotices.add(frame.id);
  const box = ensureNoticeBox();
  const kind = String(frame.kind || "notice");
  const item = el("section", "notice");
  item.dataset.kind = kind;
  if (frame.id !== undefined) item.dataset.noticeId = String(frame.id);
  const head = el("div", "notice-head");
  // The server's title says what it is; this line says nobody else got it.
  head.append(el("p", "notice-kind", "Only you can see this"));
  const dismiss = el("button", "notice-dismiss", "Dismiss");
  dismiss.type = "button";
  dismiss.setAttribute("aria-label", `Dismiss: ${frame.title || "note"}`);
  dismiss.addEventListener("click", () => {
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    // Read only once she dismisses it: a reload before then shows it again.
    if (sendFrame && frame.id !== undefined) sendFrame({ type: "notice.read", id: frame.id });
    // Don't drop her focus on the floor: go to the next note, else back to writing.
    const target = next ? next.querySelector(".notice-dismiss") : document.getElementById("composer-input");
    if (target) target.focus({ preventScroll: true });
  });
  head.append(dismiss);
  item.append(head);
  if (frame.title) item.append(el("h2", "notice-title", frame.title));
  item.append(el("p", "notice-text", frame.text || ""));
  box.append(item);
  if (kind === "moderation.muted") showMuted({ text: frame.text });
  if (kind === "moderation.unmuted") hideMuted();
}

// --- muted ------------------------------------------------------------------------------------------

let mutedPanel = null;
let mutedTimer = null;

const sameDayTime = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });
const otherDayTime = new Intl.DateTimeFormat("en-GB", { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });

function untilText(until) {
  const date = new Date(until);
  if (Number.isNaN(date.getTime())) return "";
  return date.toDateString() === new Date().toDateString()
    ? `until ${sameDayTime.format(date)} today`
    : `until ${otherDayTime.format(date)}`;
}

function showMuted({ until = null, text = "" } = {}) {
  const form = document.getElementById("composer");
  if (!form) return;
  if (!mutedPanel) {
    mutedPanel = el("div", "composer-muted");
    mutedPanel.id = "composer-muted";
    mutedPanel.setAttribute("role", "status");
    form.parentNode.insertBefore(mutedPanel, form);
  }
  const when = until ? untilText(until) : "";
  const title = el("p", "composer-muted-title", when ? `Your posting here is paused ${when}.` : "Your posting here is paused for now.");
  const body = el("p", "composer-muted-text",
    "You can still read everything, and what you wrote is kept so you can send it later. " +
    "This happens when a moderator wants to keep the room calm; it isn't a judgement of you.");
  const help = el("p", "composer-muted-help");
  const link = el("a", null, "Get help now");
  link.href = "/help/";
  help.append("If you need to talk to someone, ", link, ".");
  mutedPanel.replaceChildren(title, body);
  if (text && !until) mutedPanel.append(el("p", "composer-muted-text", text));
  mutedPanel.append(help);
  mutedPanel.hidden = false;
  form.classList.add("is-muted");
  clearTimeout(mutedTimer);
  const ends = until ? new Date(until).getTime() - Date.now() : NaN;
  if (ends > 0 && ends < 2 ** 31 - 1) mutedTimer = setTimeout(hideMuted, ends);
}

function hideMuted() {
  clearTimeout(mutedTimer);
  if (mutedPanel) mutedPanel.hidden = true;
  const form = document.getElementById("composer");
  if (form) form.classList.remove("is-muted");
}

// --- wiring -----------------------------------------------------------------------------------------

function onGetHelp(event) {
  // On the room page the card she was shown comes back first (it has the link to all options);
  // without one, the link goes to the help page as usual.
  if (!lastCard || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  openSupportCard(lastCard);
}

document.addEventListener("kindred:ready", (event) => {
  const { onFrame, send } = event.detail;
  sendFrame = send;
  restoreCard();
  onFrame("support.card", receiveCard);
  onFrame("notice", showNotice);
  onFrame("error", (frame) => {
    if (frame.code !== "muted") return;
    showMuted({ until: frame.until || null });
    // The core already wrote the server's sentence in red under the box; the calm panel above
    // says it better.
    const error = document.getElementById("composer-error");
    if (error) error.textContent = "";
  });
  const getHelp = document.getElementById("get-help");
  if (getHelp) getHelp.addEventListener("click", onGetHelp);
}, { once: true });
