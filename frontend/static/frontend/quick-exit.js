// Quick exit, on every page (loaded from base.html). The "Quick exit" button, any element marked
// [data-quick-exit] (the support card has one, because a modal dialog makes the rest of the page
// inert), or Escape pressed three times within two seconds: clear what she typed and leave for a
// neutral page at once.
//
// location.replace() swaps the current history entry, so Back from the neutral page does not come
// back to the page she was on. Browsers do not let a page remove the entries before it, so three
// more things make Back show nothing of Kindred:
//  - when she is signed in, a beacon asks the server to end her session as the page leaves
//    (POST /accounts/quick-exit/ with the page's CSRF token): whatever Back loads needs a login;
//  - every signed-in page is Cache-Control: no-store, so Back must ask the server again rather
//    than show a stored copy (and the back/forward cache does not keep it);
//  - "kindred:exited" in this tab's sessionStorage tells exit-guard.js (the first script of every
//    page) to replace a Kindred page that Back or Forward brings up with the neutral page at
//    once, before it is drawn. A page she opens herself (a link, a typed address, a reload)
//    clears the mark. The privacy page tells her how to clear her history.

const NEUTRAL_URL_DEFAULT = "https://www.bbc.co.uk/weather";
const ESCAPES_NEEDED = 3;
const ESCAPE_WINDOW_MS = 2000;

/** Every kindred:* key in sessionStorage: drafts, the outbox of unsent messages, support cards. */
export function clearKindredSessionStorage(storage = window.sessionStorage) {
  try {
    const keys = [];
    for (let i = 0; i < storage.length; i += 1) {
      const key = storage.key(i);
      if (key && key.startsWith("kindred:")) keys.push(key);
    }
    for (const key of keys) storage.removeItem(key);
  } catch {
    // Storage blocked: there is nothing stored to clear.
  }
}

function neutralUrl() {
  const link = document.getElementById("quick-exit");
  const href = link && link.getAttribute("href");
  try {
    const url = new URL(href || NEUTRAL_URL_DEFAULT, location.href);
    return url.protocol === "https:" ? url.href : NEUTRAL_URL_DEFAULT;
  } catch {
    return NEUTRAL_URL_DEFAULT;
  }
}

/** End the session on the server as the page leaves. A beacon is delivered even though the page
 * is being replaced; its answer is not needed. */
function endSession() {
  const link = document.getElementById("quick-exit");
  const endpoint = link && link.dataset.endSession;
  const token = link && link.dataset.csrf;
  if (!endpoint || !token) return; // not signed in
  const body = new FormData();
  body.append("csrfmiddlewaretoken", token);
  try {
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) return;
  } catch {
    // fall through to fetch
  }
  try {
    fetch(endpoint, { method: "POST", body, credentials: "same-origin", keepalive: true }).catch(() => {});
  } catch {
    // Nothing more can be done from a page that is leaving.
  }
}

export const EXITED_KEY = "kindred:exited";

let leaving = false;

export function quickExit() {
  if (leaving) return;
  leaving = true;
  endSession();
  clearKindredSessionStorage();
  const target = neutralUrl();
  try {
    window.sessionStorage.setItem(EXITED_KEY, target);
  } catch {
    // Storage blocked: the ended session and no-store still keep her pages from Back.
  }
  // Hide the page first: on a slow network the old page would otherwise stay on screen until the
  // neutral one starts to load.
  document.documentElement.classList.add("quick-exiting");
  location.replace(target);
}

document.addEventListener("click", (event) => {
  const trigger = event.target.closest && event.target.closest("#quick-exit, [data-quick-exit]");
  if (!trigger) return;
  event.preventDefault();
  quickExit();
});

let escapes = [];
document.addEventListener(
  "keydown",
  (event) => {
    if (event.key !== "Escape" || event.repeat) return;
    const now = event.timeStamp || performance.now();
    escapes = escapes.filter((t) => now - t <= ESCAPE_WINDOW_MS);
    escapes.push(now);
    if (escapes.length >= ESCAPES_NEEDED) quickExit();
  },
  // Capture: a dialog or a field that handles Escape itself must not swallow the count.
  { capture: true },
);
