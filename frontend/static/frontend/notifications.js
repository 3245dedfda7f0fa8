// Her notifications on this device (Settings → Notifications; chat/notifications on the server).
// Nothing is asked of the browser until she taps "Turn on": then the browser asks her permission,
// subscribes with Kindred's public VAPID key and the server stores the subscription.

const box = document.getElementById("push-controls");
const state = document.getElementById("push-state");
const onButton = document.getElementById("push-on");
const offButton = document.getElementById("push-off");

function say(text) {
  if (state) state.textContent = text;
}

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
  const raw = atob(padded);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function chosenKinds() {
  return [...document.querySelectorAll("input[name=push_kind]")].filter((i) => i.checked).map((i) => i.value);
}

async function send(method, body) {
  const response = await fetch(box.dataset.api, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf, Accept: "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let message = "Kindred could not save that.";
    try {
      message = (await response.json()).error.message || message;
    } catch {
      // keep the general message
    }
    throw new Error(message);
  }
  return response.json();
}

function show(subscribed) {
  onButton.hidden = subscribed;
  offButton.hidden = !subscribed;
}

async function start() {
  if (!box) return;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("This browser cannot show notifications from Kindred.");
    return;
  }
  let registration;
  try {
    registration = await navigator.serviceWorker.register(box.dataset.sw, { scope: "/" });
    await navigator.serviceWorker.ready;
  } catch {
    say("This browser would not let Kindred set up notifications.");
    return;
  }
  const existing = await registration.pushManager.getSubscription();
  if (existing && Notification.permission === "granted") {
    say("Notifications are on for this device.");
    show(true);
    try {
      const url = `${box.dataset.api}?endpoint=${encodeURIComponent(existing.endpoint)}`;
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) {
        const kinds = new Set((await response.json()).kinds || []);
        for (const input of document.querySelectorAll("input[name=push_kind]")) input.checked = kinds.has(input.value);
      }
    } catch {
      // offline: the boxes keep their defaults
    }
  } else if (Notification.permission === "denied") {
    say("Notifications are blocked for Kindred in this browser's settings.");
    show(false);
    onButton.hidden = true;
  } else {
    say("Notifications are off for this device.");
    show(false);
  }

  onButton.addEventListener("click", async () => {
    onButton.disabled = true;
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say("Notifications stay off: the browser was not given permission.");
        return;
      }
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(box.dataset.publicKey),
      });
      await send("POST", { ...subscription.toJSON(), kinds: chosenKinds() });
      say("Notifications are on for this device.");
      show(true);
    } catch (error) {
      say(`Notifications could not be turned on: ${error.message || "the browser's push service did not answer"}.`);
    } finally {
      onButton.disabled = false;
    }
  });

  offButton.addEventListener("click", async () => {
    offButton.disabled = true;
    try {
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        await send("DELETE", { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
      }
      say("Notifications are off for this device.");
      show(false);
    } catch (error) {
      say(`Notifications could not be turned off: ${error.message}.`);
    } finally {
      offButton.disabled = false;
    }
  });

  for (const input of document.querySelectorAll("input[name=push_kind]")) {
    input.addEventListener("change", async () => {
      const subscription = await registration.pushManager.getSubscription();
      if (!subscription) return;
      try {
        await send("POST", { ...subscription.toJSON(), kinds: chosenKinds() });
        say("Saved: notifications are on for this device.");
      } catch (error) {
        say(`Not saved: ${error.message}.`);
      }
    });
  }
}

start();
