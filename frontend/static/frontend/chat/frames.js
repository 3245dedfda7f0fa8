// Where server frames go. The core registers handlers for the frame types in docs/protocol.md;
// any other type (private frames added later: support cards, moderator notices…) is dispatched
// on `document` as a CustomEvent named `kindred:<type>` with the frame as `detail`, so a feature
// can plug in from its own module without touching the core:
//
//   document.addEventListener("kindred:support.card", (e) => showCard(e.detail));
//
// or, from a module, take the type over completely:
//
//   import { onFrame } from "./frames.js";
//   onFrame("support.card", (frame) => showCard(frame));

const handlers = new Map();
const SAFE_TYPE = /^[a-z][a-z0-9_.-]{0,63}$/;

/** Handle every frame of `type`; returns a function that removes the handler. */
export function onFrame(type, handler) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(handler);
  return () => handlers.get(type).delete(handler);
}

/** Route one parsed frame. Returns true when a registered handler took it. */
export function dispatchFrame(frame) {
  const registered = handlers.get(frame.type);
  if (registered && registered.size) {
    for (const handler of registered) {
      try {
        handler(frame);
      } catch (err) {
        // One broken feature must not stop the chat from working.
        console.error(`kindred: handler for ${frame.type} failed`, err);
      }
    }
    return true;
  }
  if (SAFE_TYPE.test(frame.type)) {
    document.dispatchEvent(new CustomEvent(`kindred:${frame.type}`, { detail: frame }));
  }
  return false;
}
