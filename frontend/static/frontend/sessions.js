// Session start and end in the room (`session.started` / `session.ended` frames, broadcast to the
// room by moderation/facilitation): a short status line above the messages, for everyone.
// Plug-in module: listens for the `kindred:session.*` DOM events from chat/frames.js.

function line(text) {
  const timeline = document.getElementById("timeline");
  if (!timeline) return;
  let note = document.getElementById("session-status");
  if (!note) {
    note = document.createElement("p");
    note.id = "session-status";
    note.className = "session-status";
    note.setAttribute("role", "status");
    timeline.parentNode.insertBefore(note, timeline);
  }
  note.textContent = text;
}

const time = (iso) => new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });

document.addEventListener("kindred:session.started", (event) => {
  const s = event.detail.session;
  line(`Session started: ${s.title} (until ${time(s.ends_at)}). ${s.focus}`);
});
document.addEventListener("kindred:session.ended", (event) => {
  line(`Session ended: ${event.detail.session.title}. Thank you for coming.`);
});
