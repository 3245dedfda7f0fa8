// Turning a helpline's `contact` (free text kept by supervisors) into something a phone can tap.
// Mirrors frontend/selectors.py:contact_href, which does the same for the server-rendered help
// page; tests/frontend/test_help_pages.py pins the cases for both.
//
//   "116 123"              → tel:116123
//   "0808 1961 776"        → tel:08081961776
//   "+44 20 7946 0000"     → tel:+442079460000
//   "Text SHOUT to 85258"  → sms:85258?body=SHOUT
//   anything else          → null (shown as plain text; the web link, if any, still works)

const PHONE = /^\+?[0-9][0-9 ()-]{1,24}$/;
const TEXT_TO = /^text\s+([A-Za-z0-9]{1,20})\s+to\s+(\+?[0-9][0-9 ]{1,15})$/i;

export function contactHref(contact) {
  const text = String(contact || "").trim();
  const sms = TEXT_TO.exec(text);
  if (sms) {
    const number = sms[2].replace(/[^0-9+]/g, "");
    return `sms:${number}?body=${encodeURIComponent(sms[1].toUpperCase())}`;
  }
  if (PHONE.test(text)) {
    // "+44 (0)20…": the bracketed trunk zero is not dialled from abroad, nor needed at home.
    const digits = text.replace(/\(0\)/g, "").replace(/[^0-9+]/g, "");
    // A plus only makes sense in front: "+44…"; stray ones would make a broken link.
    if (digits.indexOf("+", 1) !== -1 || digits.replace("+", "").length < 3) return null;
    return `tel:${digits}`;
  }
  return null;
}

/** What the tap does, in words: the link text must not be the only clue (screen readers). */
export function contactAction(href) {
  if (!href) return "";
  return href.startsWith("sms:") ? "Send a text" : "Call";
}

/** An https/http URL or null: helpline data is edited by people, so check before linking. */
export function safeWebUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}
