// Logging out turns notifications off on this device (chat/notifications/receivers.py).
// Before the logout form goes, the browser's own push subscription is named in the form (so the
// server removes it even if it was turned on in an earlier session) and unsubscribed, so this
// browser stops receiving Kindred's notices at all. Never holds logging out up for long: whatever
// the browser does not finish within a moment, the server's side is enough.

const GIVE_UP_MS = 1500;

async function unsubscribeHere(form) {
  if (!("serviceWorker" in navigator)) return;
  // getRegistration() never registers one: a browser that never turned notifications on has none.
  const registration = await navigator.serviceWorker.getRegistration("/");
  if (!registration || !registration.pushManager) return;
  const subscription = await registration.pushManager.getSubscription();
  if (!subscription) return;
  const field = document.createElement("input");
  field.type = "hidden";
  field.name = "push_endpoint";
  field.value = subscription.endpoint;
  form.append(field);
  await subscription.unsubscribe();
}

for (const form of document.querySelectorAll("form[data-logout]")) {
  form.addEventListener("submit", (event) => {
    // Kindred's service worker controls every page once she turned notifications on here
    // (it claims them); without one there is nothing to unsubscribe, and logging out goes at once.
    if (form.dataset.leaving || !navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    event.preventDefault();
    form.dataset.leaving = "true";
    const giveUp = new Promise((resolve) => setTimeout(resolve, GIVE_UP_MS));
    Promise.race([unsubscribeHere(form).catch(() => {}), giveUp]).finally(() => form.submit());
  });
}
