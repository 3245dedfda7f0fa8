// Quick exit, on every page (loaded from base.html). The "Quick exit" button, any element marked
// [data-quick-exit] (the support card has one, because a modal dialog makes the rest of the page
// inert), or Escape pressed three times within two seconds: clear what she typed and leave for a
// neutral page at once.
//
// location.replace() swaps the current history entry, so Back from the neutral page does not come
// back to the page she was on. Browsers do not let a page remove the entries before it; the
// privacy page tells her how to clear her history.

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

let leaving = false;

export function quickExit() {
  if (leaving) return;
  leaving = true;
  clearKindredSessionStorage();
  // Hide the page first: on a slow network the old page would otherwise stay on screen until the
  // neutral one starts to load.
  document.documentElement.classList.add("quick-exiting");
  location.replace(neutralUrl());
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
