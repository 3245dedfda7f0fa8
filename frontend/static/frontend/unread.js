// A quiet sign of new messages in her other rooms (loaded from base.html when she is logged in):
// a number on the header's "Rooms" link and "3 new" on each card of the room list. It polls
// GET /api/rooms/unread (counts only, never message text: docs/protocol.md) every 30 s and when
// she comes back to the tab. No sound, no browser notification, nothing on a lock screen.

const POLL_MS = 30_000;
const badge = document.getElementById("rooms-unread");

function currentRoom() {
  const config = document.getElementById("chat-config");
  if (!config) return "";
  try {
    return JSON.parse(config.textContent).room || "";
  } catch {
    return "";
  }
}

const here = currentRoom();
const shown = (n) => (n > 99 ? "99+" : String(n));

function render(rooms) {
  // The room she is reading is not "new" to her: its count only drops at her next ping.
  const others = rooms.filter((r) => r.room !== here && r.unread > 0);
  const total = others.reduce((n, r) => n + r.unread, 0);
  if (badge) {
    badge.textContent = total ? shown(total) : "";
    badge.setAttribute("aria-hidden", "true");
    badge.hidden = !total;
    // The number alone would be read as "Rooms 9"; say what it counts.
    const link = badge.closest("a");
    if (link && total) link.setAttribute("aria-label", `Rooms, ${total} new message${total === 1 ? "" : "s"} in your other rooms`);
    else if (link) link.removeAttribute("aria-label");
  }
  const counts = new Map(others.map((r) => [r.room, r.unread]));
  for (const node of document.querySelectorAll("[data-unread-room]")) {
    const n = counts.get(node.dataset.unreadRoom) || 0;
    node.textContent = n ? `${shown(n)} new` : "";
    node.hidden = !n;
  }
}

let inFlight = false;
async function poll() {
  if (inFlight || document.visibilityState !== "visible") return;
  inFlight = true;
  try {
    const response = await fetch("/api/rooms/unread", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) {
      const data = await response.json();
      if (Array.isArray(data.rooms)) render(data.rooms);
    }
  } catch {
    // Offline: try again at the next tick.
  } finally {
    inFlight = false;
  }
}

poll();
setInterval(poll, POLL_MS);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") poll();
});
