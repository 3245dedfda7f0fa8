// What a member does to messages on the room page (imported by chat.js; frames in docs/protocol.md):
//
//   message menu      one "⋯" button per message; everything below is in its menu (WAI-ARIA
//                     menu button: Enter/Space open it, arrows move, Escape closes)
//   reaction.toggle   "Me too", "Sending a hug", "Thank you" on others' visible messages
//   reply             a quoted snippet above the composer (chat/compose.js), reply_to on send
//   message.edit      her own message, in the composer, for 15 minutes (the server checks again)
//   message.delete    her own message, after a confirmation
//   message.report    a small dialog with an optional reason, then "Thank you…"
//   member.filter     mute or block another member from her message's options; undo from the
//                     hidden line that replaces her messages
//   content notes     a collapsed message opens on a tap (render.js draws it)
//   resource.share    moderators: a picker of the resources directory
//
// Server text and member text only ever go in with textContent.

import { newClientId } from "./chat/outbox.js";
import { compose } from "./chat/compose.js";
import { fillMessage, renderSettings } from "./chat/render.js";

const list = document.getElementById("messages");
const announcer = document.getElementById("announcer");

let send = () => false;
let me = null;
let timeline = null;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function announce(text) {
  if (!announcer) return;
  announcer.textContent = "";
  // A fresh node, so the same sentence twice is read twice.
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}

function offline() {
  announce("You're not connected just now. Please try again in a moment.");
  const error = document.getElementById("composer-error");
  if (error) error.textContent = "You're not connected just now. Please try again in a moment.";
}

function liOf(seq) {
  return list ? list.querySelector(`li[data-seq="${Number(seq)}"]`) : null;
}

function redraw(li, message) {
  fillMessage(li, message || li._message, me);
}

// --- dialogs ------------------------------------------------------------------------------------

/** A small modal dialog: a title, a body the caller fills, focus back where it was on close. */
function makeDialog(id, title) {
  const dialog = el("dialog", "k-dialog");
  dialog.id = id;
  dialog.setAttribute("aria-labelledby", `${id}-title`);
  const heading = el("h2", "k-dialog-title", title);
  heading.id = `${id}-title`;
  heading.tabIndex = -1;
  const body = el("div", "k-dialog-body");
  dialog.append(heading, body);
  let returnTo = null;
  dialog.addEventListener("close", () => {
    if (returnTo && returnTo.isConnected) returnTo.focus({ preventScroll: true });
    returnTo = null;
  });
  document.body.append(dialog);
  return {
    dialog,
    heading,
    body,
    open(focusTarget) {
      const active = document.activeElement;
      returnTo = active && active !== document.body ? active : document.getElementById("composer-input");
      if (!dialog.open) dialog.showModal();
      (focusTarget || heading).focus();
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}

function actions(...buttons) {
  const bar = el("div", "k-dialog-actions");
  bar.append(...buttons);
  return bar;
}

function dialogButton(className, text, onClick) {
  const b = el("button", className, text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function quoteOf(message) {
  const q = el("blockquote", "k-dialog-quote");
  q.append(el("span", "k-dialog-quote-author", message.author ? message.author.display_name : ""));
  q.append(el("span", "k-dialog-quote-text", (message.body || "").slice(0, 200)));
  return q;
}

// --- report ---------------------------------------------------------------------------------------

let reportBox = null;
let reportingSeq = null;

function openReport(message) {
  reportBox = reportBox || makeDialog("report-dialog", "Report this message");
  reportingSeq = message.seq;
  const { body } = reportBox;
  reportBox.heading.textContent = "Report this message";
  const intro = el("p", null, "A moderator will look at it. The author is not told who reported it.");
  const field = el("div", "field");
  const label = el("label", null, "What's wrong? (optional)");
  label.htmlFor = "report-reason";
  const reason = el("textarea", "k-dialog-text");
  reason.id = "report-reason";
  reason.maxLength = 500;
  reason.rows = 3;
  field.append(label, reason);
  const error = el("p", "k-dialog-error");
  error.id = "report-error";
  error.setAttribute("role", "alert");
  const submit = dialogButton("primary", "Send report", () => {
    error.textContent = "";
    const frame = { type: "message.report", seq: reportingSeq };
    if (reason.value.trim()) frame.reason = reason.value.trim();
    if (!send(frame)) {
      error.textContent = "You're not connected just now. Please try again in a moment.";
      return;
    }
    submit.disabled = true;
    submit.textContent = "Sending…";
  });
  const cancel = dialogButton("secondary", "Cancel", () => reportBox.close());
  body.replaceChildren(intro, quoteOf(message), field, error, actions(submit, cancel));
  reportBox.open(reason);
}

function reportReceived(frame) {
  if (!reportBox || !reportBox.dialog.open) {
    announce(frame.message || "Thank you. Your report has been sent.");
    return;
  }
  reportingSeq = null;
  reportBox.heading.textContent = "Thank you";
  const text = el("p", "k-dialog-thanks", frame.message || "Thank you. A moderator will look at it.");
  text.setAttribute("role", "status");
  const close = dialogButton("primary", "Close", () => reportBox.close());
  reportBox.body.replaceChildren(text, actions(close));
  reportBox.heading.focus();
}

// --- mute and block --------------------------------------------------------------------------------

let filterBox = null;
const filterPending = new Map(); // user id → kind asked for

function openFilter(message) {
  const author = message.author;
  if (!author) return;
  const name = author.display_name;
  filterBox = filterBox || makeDialog("filter-dialog", "");
  filterBox.heading.textContent = `Mute or block ${name}?`;
  const list = el("dl", "filter-options");
  list.append(el("dt", null, "Mute"), el("dd", null, `You stop seeing ${name}'s messages. She isn't told, and she can still see yours.`));
  list.append(el("dt", null, "Block"), el("dd", null, `You stop seeing ${name}'s messages, and she no longer sees that you're in the room.`));
  const undo = el("p", "k-dialog-help", "You can undo either from the line that replaces her messages. If she's upsetting you or others, please report the message too.");
  const error = el("p", "k-dialog-error");
  error.setAttribute("role", "alert");
  const choose = (kind) => () => {
    filterPending.set(author.id, kind);
    if (!send({ type: "member.filter", user_id: author.id, kind })) {
      error.textContent = "You're not connected just now. Please try again in a moment.";
      return;
    }
    filterBox.close();
  };
  const mute = dialogButton("primary", `Mute ${name}`, choose("mute"));
  const block = dialogButton("secondary", `Block ${name}`, choose("block"));
  const cancel = dialogButton("link-button k-dialog-cancel", "Cancel", () => filterBox.close());
  filterBox.body.replaceChildren(list, undo, error, actions(mute, block, cancel));
  filterBox.open(mute);
}

function filterSaved(frame) {
  const id = frame.user_id;
  const kind = frame.kind || null;
  filterPending.delete(id);
  let name = "";
  for (const li of list.querySelectorAll(`li[data-author-id="${Number(id)}"]`)) {
    const message = li._message;
    if (!message) continue;
    name = message.author ? message.author.display_name : name;
  }
  if (kind) {
    renderSettings.filtered.set(id, kind);
    // Same as the server does for every later message: the words go, the seq stays.
    for (const li of list.querySelectorAll(`li[data-author-id="${Number(id)}"]`)) {
      const m = li._message;
      if (!m || m.state === "deleted" || li.hidden) continue;
      redraw(li, { ...m, body: "", html: "", reply_to: null, reactions: {}, hidden_for_you: true });
    }
    announce(kind === "block" ? `You blocked ${name}. Her messages are hidden for you.` : `You muted ${name}. Her messages are hidden for you.`);
  } else {
    renderSettings.filtered.delete(id);
    // The server withheld the words; ask again for what is on screen now that it will send them.
    const first = timeline ? timeline.firstSeq : null;
    if (first !== null) send({ type: "resume", after_seq: Math.max(0, first - 1) });
    announce(`${name || "She"}'s messages are shown again.`);
  }
}

// --- delete -----------------------------------------------------------------------------------------

let deleteBox = null;

function openDelete(message) {
  deleteBox = deleteBox || makeDialog("delete-dialog", "Delete this message?");
  const text = el("p", null, "Everyone in the room will see \u201cMessage deleted\u201d instead of it.");
  const yes = dialogButton("primary danger-button", "Delete", () => {
    if (!send({ type: "message.delete", seq: message.seq })) {
      offline();
      return;
    }
    deleteBox.close();
  });
  const no = dialogButton("secondary", "Keep it", () => deleteBox.close());
  deleteBox.body.replaceChildren(text, quoteOf({ ...message, author: null }), actions(yes, no));
  deleteBox.open(no);
}

// --- message buttons ----------------------------------------------------------------------------------

// The "⋯" menu of each message (WAI-ARIA menu button). Opening it, with a tap, Enter or Space,
// moves focus to its first item; the arrow keys, Home and End move between items; Escape closes
// it and puts focus back on "⋯"; Tab, or a tap anywhere else, closes it. Only one is open.

function menuParts(seq) {
  const li = liOf(seq);
  if (!li) return {};
  return {
    li,
    toggle: li.querySelector(".msg-options"),
    menu: li.querySelector(".msg-menu"),
    help: li.querySelector(".menu-help"),
  };
}

function menuItems(menu) {
  return menu ? [...menu.querySelectorAll("[role^=menuitem]")] : [];
}

function closeMenu({ focus = false } = {}) {
  const seq = renderSettings.openMenu;
  if (seq === null) return;
  renderSettings.openMenu = null;
  const { toggle, menu, help } = menuParts(seq);
  if (menu) menu.hidden = true;
  if (help) help.hidden = true;
  if (toggle) {
    toggle.setAttribute("aria-expanded", "false");
    if (focus) toggle.focus({ preventScroll: true });
  }
}

function openMenu(seq, { focusLast = false } = {}) {
  if (renderSettings.openMenu === seq) return;
  closeMenu();
  const { toggle, menu, help } = menuParts(seq);
  if (!toggle || !menu) return;
  renderSettings.openMenu = seq;
  toggle.setAttribute("aria-expanded", "true");
  menu.hidden = false;
  if (help) help.hidden = false;
  const items = menuItems(menu);
  const target = focusLast ? items.at(-1) : items[0];
  if (target) target.focus({ preventScroll: true });
  (help || menu).scrollIntoView({ block: "nearest" });
}

function toggleMenu(li, seq) {
  if (renderSettings.openMenu === seq) closeMenu({ focus: true });
  else openMenu(seq);
}

function onMenuKey(event) {
  const toggle = event.target.closest(".msg-options");
  const li = event.target.closest("li[data-seq]");
  if (!li || !li._message) return;
  const seq = li._message.seq;
  if (toggle) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      closeMenu();
      openMenu(seq, { focusLast: event.key === "ArrowUp" });
    }
    return;
  }
  const menu = event.target.closest(".msg-menu");
  if (!menu) return;
  const items = menuItems(menu);
  const at = items.indexOf(event.target.closest("[role^=menuitem]"));
  let next = null;
  if (event.key === "ArrowDown") next = items[(at + 1) % items.length];
  else if (event.key === "ArrowUp") next = items[(at - 1 + items.length) % items.length];
  else if (event.key === "Home") next = items[0];
  else if (event.key === "End") next = items.at(-1);
  else if (event.key === "Escape") {
    event.preventDefault();
    closeMenu({ focus: true });
    return;
  } else if (event.key === "Tab") {
    // Focus goes on to the next control on the page; the menu does not stay open behind it.
    closeMenu();
    return;
  }
  if (next) {
    event.preventDefault();
    next.focus();
  }
}

function toggleNote(li, seq, button) {
  const content = li.querySelector(".msg-content");
  const open = content.hidden;
  if (open) renderSettings.revealed.add(seq);
  else renderSettings.revealed.delete(seq);
  content.hidden = !open;
  button.setAttribute("aria-expanded", open ? "true" : "false");
  button.querySelector(".cn-hint").textContent = open ? "Hide" : "Tap to read";
}

function jumpTo(seq) {
  const target = liOf(seq);
  if (!target || target.hidden) {
    announce("That message is further up: use \u201cShow earlier messages\u201d at the top to find it.");
    return;
  }
  target.scrollIntoView({ block: "center", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
  target.focus({ preventScroll: true });
  target.classList.remove("msg-flash");
  void target.offsetWidth; // restart the highlight
  target.classList.add("msg-flash");
}

function onMessageClick(event) {
  const button = event.target.closest("button[data-act]");
  const li = button && button.closest("li[data-seq]");
  if (!li || !li._message) return;
  const message = li._message;
  const seq = message.seq;
  switch (button.dataset.act) {
    case "react":
      // The redraw that follows keeps focus on "⋯" and shows the tick and the count.
      closeMenu({ focus: true });
      if (!send({ type: "reaction.toggle", seq, kind: button.dataset.kind })) offline();
      else {
        const words = button.lastElementChild ? button.lastElementChild.textContent : "";
        announce(button.getAttribute("aria-checked") === "true" ? `${words}: taken back.` : `You reacted: ${words}.`);
      }
      break;
    case "reply":
      closeMenu();
      compose.setReply({
        seq,
        author: message.author && message.author.id === me.id ? "yourself" : message.author ? message.author.display_name : "",
        excerpt: (message.body || "").slice(0, 140),
      });
      break;
    case "note":
      toggleNote(li, seq, button);
      break;
    case "quote":
      jumpTo(Number(button.dataset.target));
      break;
    case "options":
      toggleMenu(li, seq);
      break;
    case "edit":
      closeMenu();
      compose.startEdit(message);
      break;
    case "delete":
      closeMenu({ focus: true }); // the dialog gives focus back to "⋯" when it closes
      openDelete(message);
      break;
    case "report":
      closeMenu({ focus: true }); // the dialog gives focus back to "⋯" when it closes
      openReport(message);
      break;
    case "filter":
      closeMenu({ focus: true }); // the dialog gives focus back to "⋯" when it closes
      openFilter(message);
      break;
    case "unfilter":
      if (message.author) {
        filterPending.set(message.author.id, null);
        if (!send({ type: "member.filter", user_id: message.author.id, kind: null })) offline();
      }
      break;
    default:
  }
}

// Her own messages' Edit and Delete go when the 15 minutes are up (the server would refuse).
function expireOwnActions() {
  const now = Date.now();
  for (const node of list.querySelectorAll(".msg-options[data-edit-until]")) {
    if (Number(node.dataset.editUntil) > now) continue;
    const li = node.closest("li[data-seq]");
    if (li && li._message) {
      if (renderSettings.openMenu === li._message.seq) renderSettings.openMenu = null;
      const hadFocus = li.contains(document.activeElement);
      redraw(li);
      if (hadFocus && !li.contains(document.activeElement)) li.focus({ preventScroll: true });
    }
  }
}

// --- resources (moderators) ------------------------------------------------------------------------------

let resourceBox = null;

async function openResources() {
  resourceBox = resourceBox || makeDialog("resource-dialog", "Share a resource");
  const status = el("p", "k-dialog-help", "Loading the resources directory…");
  status.setAttribute("role", "status");
  const close = dialogButton("secondary", "Close", () => resourceBox.close());
  resourceBox.body.replaceChildren(status, actions(close));
  resourceBox.open();
  try {
    const response = await fetch("/api/resources", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    const data = await response.json();
    const items = el("ul", "resource-picker");
    for (const resource of data.resources || []) {
      const li = el("li", "resource-pick");
      const text = el("div");
      text.append(el("p", "resource-name", resource.name));
      if (resource.when) text.append(el("p", "resource-when", resource.when));
      const share = dialogButton("small-button", "Share", () => {
        if (!send({ type: "resource.share", resource_id: resource.id, client_id: newClientId() })) {
          status.textContent = "You're not connected just now. Please try again in a moment.";
          return;
        }
        share.disabled = true;
        share.textContent = "Sharing…";
      });
      share.setAttribute("aria-label", `Share ${resource.name}`);
      li.append(text, share);
      items.append(li);
    }
    status.textContent = items.children.length
      ? "Choose a service to put in the conversation as a card."
      : "The resources directory is empty.";
    resourceBox.body.replaceChildren(status, items, actions(close));
  } catch (err) {
    status.textContent = "Couldn't load the resources directory. Please try again.";
    console.warn("kindred: resources", err);
  }
}

// --- wiring ------------------------------------------------------------------------------------------------

function onError(frame) {
  // A refusal while one of our dialogs waits belongs in that dialog (the core also shows it below the box).
  for (const box of [reportBox, resourceBox]) {
    if (!box || !box.dialog.open) continue;
    let error = box.body.querySelector(".k-dialog-error");
    if (!error) {
      error = el("p", "k-dialog-error");
      error.setAttribute("role", "alert");
      box.body.prepend(error);
    }
    error.textContent = frame.message || "Something went wrong.";
    for (const b of box.body.querySelectorAll("button:disabled")) {
      b.disabled = false;
      b.textContent = b.closest(".resource-pick") ? "Share" : "Send report";
    }
  }
}

document.addEventListener("kindred:ready", (event) => {
  const detail = event.detail;
  send = detail.send;
  me = detail.config.me;
  timeline = detail.timeline || null;
  detail.onFrame("room.joined", (frame) => {
    if (frame.you) me = frame.you;
  });
  detail.onFrame("report.received", reportReceived);
  detail.onFrame("member.filter.saved", filterSaved);
  detail.onFrame("resource.shared", () => {
    if (resourceBox) resourceBox.close();
    announce("Resource shared.");
  });
  detail.onFrame("error", onError);
  if (!list) return;
  list.addEventListener("click", onMessageClick);
  list.addEventListener("keydown", onMenuKey);
  document.addEventListener("click", (e) => {
    if (renderSettings.openMenu === null) return;
    const li = liOf(renderSettings.openMenu);
    const inside = e.target instanceof Element && e.target.closest(".msg-options, .msg-menu");
    if (!li || !inside || !li.contains(inside)) closeMenu();
  });
  setInterval(expireOwnActions, 15_000);
  const share = document.getElementById("share-resource");
  if (share) share.addEventListener("click", openResources);
}, { once: true });
