// DOM builders for the moderator console. Member text only ever goes in with textContent.

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return "less than a minute";
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

const timeFmt = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

export function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return (date.toDateString() === new Date().toDateString() ? timeFmt : dayFmt).format(date);
}

export const CATEGORY_LABELS = {
  risk: "Risk",
  toxic: "Hurtful",
  insensitive: "Insensitive",
  distress: "Distress",
  none: "Other",
};
const PRIORITY_LABELS = { urgent: "Urgent", high: "High priority", normal: "Normal priority", low: "Low priority" };
export const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2, low: 3 };

/** One line saying which rule or score fired, with its threshold. */
export function describeReason(reason) {
  if (!reason || typeof reason !== "object") return String(reason);
  if (reason.score && String(reason.score).startsWith("kindred_")) {
    // Kindred's safety model: say what it saw in moderators' words, family first for risk.
    const what = String(reason.score).replace("kindred_", "").replace("_", " ");
    let text = `Safety model: ${what} ${Number(reason.value).toFixed(2)} (threshold ${Number(reason.threshold).toFixed(2)})`;
    if (reason.family) text += ` · ${String(reason.family).replaceAll("_", " ")}`;
    if (reason.kind) text += ` (${String(reason.kind).replaceAll("_", " ")})`;
    if (reason.note) text += ` · ${reason.note}`;
    if (reason.span) text += `: “${reason.span}”`;
    return text;
  }
  if (reason.score) {
    const value = Number(reason.value);
    const threshold = Number(reason.threshold);
    let text = `Classifier ${reason.score} ${value.toFixed(2)} ≥ threshold ${threshold.toFixed(2)}`;
    if (reason.note) text += ` (${reason.note})`;
    return text;
  }
  switch (reason.rule) {
    case "classifier_unavailable":
      return "Classifier unavailable: decided on safety rules only";
    case "member.report":
      return "Reported by a member";
    case "reply_to_risk":
      // moderation/care.py: an unkind message under a risk message is urgent and held from her.
      return `Unkind reply to a risk message (item ${Number(reason.risk_flag_id)}, #${Number(reason.risk_seq)}): urgent, held from her until reviewed`;
    case "member.muted":
      return reason.note ? `Author is muted: ${reason.note}` : "Author is muted: held for review";
    case "member.probation":
      return "Author is new or was sanctioned before: held for review";
    case "no_moderator_on_duty":
      return "No moderator was on duty: held for review";
    default:
      break;
  }
  if (reason.rule) {
    let text = `Rule ${reason.rule}`;
    if (reason.span) text += `: “${reason.span}”`;
    return text;
  }
  return reason.note || JSON.stringify(reason);
}

/**
 * Member text that may hurt to read: blurred until the moderator chooses to see it. While blurred
 * it is hidden from screen readers too, so the choice is the same for everyone.
 */
export function sensitiveText(text, { blur, tag = "p", className = "", label = "Show message" }) {
  const wrap = el("div", `sensitive${blur ? " is-blurred" : ""}`);
  const body = el(tag, `sensitive-text ${className}`.trim(), text || "");
  wrap.append(body);
  if (!blur) return wrap;
  body.setAttribute("aria-hidden", "true");
  const button = el("button", "show-sensitive", label);
  button.type = "button";
  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", (event) => {
    event.preventDefault();
    event.stopPropagation();
    const blurred = wrap.classList.toggle("is-blurred");
    if (blurred) body.setAttribute("aria-hidden", "true");
    else body.removeAttribute("aria-hidden");
    button.setAttribute("aria-expanded", String(!blurred));
    button.textContent = blurred ? label : "Blur again";
  });
  wrap.append(button);
  return wrap;
}

export function categoryBadges(flag) {
  const badges = el("p", "flag-badges");
  if (flag.escalated) {
    badges.append(el("span", "flag-badge flag-badge-urgent", "⚠ Urgent: risk"));
  }
  badges.append(el("span", `flag-badge flag-badge-${flag.category}`, CATEGORY_LABELS[flag.category] || flag.category));
  if (!flag.escalated) badges.append(el("span", `flag-badge flag-badge-priority`, PRIORITY_LABELS[flag.priority] || flag.priority));
  if (flag.report_count) {
    badges.append(el("span", "flag-badge flag-badge-reports", flag.report_count === 1 ? "1 report" : `${flag.report_count} reports`));
  }
  return badges;
}

/** "Waiting 4 min · target 5 min", or "Target missed" in words and with a symbol, never colour alone. */
export function waitLine(flag, waitedSeconds) {
  const missed = waitedSeconds > flag.target_seconds;
  const p = el("p", `flag-wait${missed ? " is-missed" : ""}`);
  p.dataset.flagId = String(flag.id);
  if (missed) {
    p.append(el("strong", "flag-wait-missed", "⚠ Target missed"), ` · waiting ${duration(waitedSeconds)} (target ${duration(flag.target_seconds)})`);
  } else {
    p.textContent = `◷ Waiting ${duration(waitedSeconds)} · target ${duration(flag.target_seconds)}`;
  }
  return p;
}

export function claimLine(flag, me) {
  if (flag.state === "resolved") return el("p", "flag-claim is-resolved", "✓ Resolved");
  if (flag.state === "claimed" && flag.claimed_by) {
    return flag.claimed_by === me
      ? el("p", "flag-claim is-mine", "● You're handling this")
      : el("p", "flag-claim is-taken", `● ${flag.claimed_by} is handling this`);
  }
  return el("p", "flag-claim is-open", "○ Open: nobody has claimed it");
}

// --- shared by the console (moderation.js) and the practice console (practice.js) -----------------

export const MUTE_CHOICES = [[15, "15 minutes"], [60, "1 hour"], [24 * 60, "1 day"], [7 * 24 * 60, "7 days"]];
// The server's wording (moderation/actions.py WARNING_TEMPLATE), so she starts from kind words;
// sending it empty makes the server use its own copy.
export const WARNING_TEMPLATE =
  "Hi {name}, one of our volunteer moderators here. Your message in {room} came across as hurtful " +
  "to others, and Kindred only works if everyone feels safe to share. We know things are hard. " +
  "Please read the community guidelines and keep your messages kind. Thank you.";

export function waited(entry) {
  return entry.flag.waiting_seconds + (Date.now() - entry.at) / 1000;
}

export function section(title, className) {
  const s = el("section", `detail-section ${className || ""}`.trim());
  s.append(el("h3", null, title));
  return s;
}

export function button(text, className, onClick) {
  const b = el("button", className || "small-button", text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

export function field(labelText, control, hint) {
  const wrap = el("div", "field");
  const id = `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const label = el("label", null, labelText);
  label.htmlFor = id;
  wrap.append(label, control);
  if (hint) {
    const p = el("p", "help", hint);
    p.id = `${id}-hint`;
    control.setAttribute("aria-describedby", p.id);
    wrap.append(p);
  }
  return wrap;
}

export function listOrNone(items, render, emptyText) {
  if (!items || !items.length) return el("p", "detail-none", emptyText);
  const ul = el("ul", "detail-list");
  for (const item of items) ul.append(render(item));
  return ul;
}
