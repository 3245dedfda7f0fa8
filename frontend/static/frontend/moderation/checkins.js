// The queue item's "Message her privately": opens (or joins) a private check-in with the author
// (POST /api/moderation/checkins, moderation/checkins/views.py) with a first line, then goes to
// the conversation. Also links to her profile in the console, and tells the moderator who opened a
// check-in when the member answers it (a `checkin.reply` frame on the console's live feed).

import { api } from "./api.js";
import { el } from "./render.js";

export function checkinControls(flag) {
  const author = flag.message && flag.message.author;
  const box = el("div", "checkin-controls");
  if (!author || !author.id) return box;
  const details = el("details", "action-more checkin-open");
  if (flag.escalated) details.open = true; // a risk item: the check-in she was promised comes first
  details.append(el("summary", null, `Message ${author.display_name} privately`));
  const label = el("label", null, "What she will read (only she and the moderators see it)");
  const text = el("textarea");
  text.id = `checkin-text-${flag.id}`;
  label.htmlFor = text.id;
  text.rows = 3;
  text.maxLength = 4000;
  text.value = `Hi ${author.display_name}, one of Kindred's moderators here. I saw your message and wanted to check in with you privately. How are you doing right now?`;
  const error = el("p", "action-error");
  error.setAttribute("role", "alert");
  const send = el("button", "primary", "Send privately");
  send.type = "button";
  send.addEventListener("click", async () => {
    send.disabled = true;
    error.textContent = "";
    try {
      const data = await api("/api/moderation/checkins", { method: "POST", body: { member_id: author.id, flag_id: flag.id, text: text.value } });
      location.href = data.checkin.url;
    } catch (err) {
      error.textContent = err.message;
      send.disabled = false;
    }
  });
  details.append(label, text, send, error);
  const profile = el("a", "checkin-profile-link", `${author.display_name}'s profile and check-ins`);
  profile.href = `/moderation/members/${author.id}/`;
  const all = el("a", "checkin-profile-link", "All private check-ins");
  all.href = "/moderation/checkins/";
  box.append(details, profile, " · ", all);
  return box;
}

export function showCheckinReply(frame) {
  if (typeof frame.checkin_id !== "number") return;
  let box = document.getElementById("checkin-replies");
  if (!box) {
    box = el("div", "checkin-banner checkin-replies");
    box.id = "checkin-replies";
    box.setAttribute("role", "status");
    const app = document.getElementById("mod-app");
    if (!app) return;
    app.prepend(box);
  }
  const link = el("a", "primary button-link", "Open the conversation");
  link.href = `/checkins/${frame.checkin_id}/`;
  box.replaceChildren(el("p", "checkin-banner-text", `${frame.member || "A member"} replied in your private check-in.`), link);
}
