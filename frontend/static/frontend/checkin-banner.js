// On the room page: when a moderator opens a private check-in with her (or one is open when she
// joins), a private banner says so and links to the conversation. It never enters the timeline.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

let banner = null;

function showCheckin(frame) {
  const checkin = frame.checkin || {};
  if (typeof checkin.id !== "number") return;
  if (!banner) {
    banner = el("section", "checkin-banner");
    banner.id = "checkin-banner";
    banner.setAttribute("role", "status");
    banner.setAttribute("aria-label", "A private message for you");
    const timeline = document.getElementById("timeline");
    if (timeline && timeline.parentNode) timeline.parentNode.insertBefore(banner, timeline);
    else (document.querySelector("main") || document.body).prepend(banner);
  }
  const link = el("a", "primary button-link", "Open the private conversation");
  link.href = `/checkins/${checkin.id}/`;
  banner.replaceChildren(el("p", "notice-kind", "Only you can see this"), el("p", "checkin-banner-text", frame.text || "A moderator has messaged you privately."), link);
}

document.addEventListener("kindred:ready", (event) => {
  event.detail.onFrame("checkin.opened", showCheckin);
}, { once: true });
