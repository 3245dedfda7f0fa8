// Own messages that have no seq yet, kept in sessionStorage per account and room so a reload (or the phone
// killing a background tab) does not lose what she typed. Each keeps its client_id for life, so
// resending after a lost ack can never store it twice (the server is idempotent on client_id).

const CLIENT_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

export function newClientId() {
  if (crypto.randomUUID) return `c-${crypto.randomUUID()}`;
  // randomUUID needs a secure context; plain-http development on a LAN address lacks one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `c-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export class Outbox {
  /** `scope` names whose queue this is (account and room). */
  constructor(scope, storage = safeSessionStorage()) {
    this.key = `kindred:outbox:${scope}`;
    this.storage = storage;
    this.items = this._load();
  }

  _load() {
    if (!this.storage) return [];
    try {
      const items = JSON.parse(this.storage.getItem(this.key) || "[]");
      if (!Array.isArray(items)) return [];
      return items
        .filter((i) => i && typeof i.body === "string" && CLIENT_ID_RE.test(i.client_id))
        // Whatever was in flight when the page went away has to be sent again.
        .map((i) => ({ ...i, status: i.status === "failed" ? "failed" : "queued" }));
    } catch {
      return [];
    }
  }

  save() {
    if (!this.storage) return;
    try {
      if (this.items.length) this.storage.setItem(this.key, JSON.stringify(this.items));
      else this.storage.removeItem(this.key);
    } catch {
      // Storage full or blocked: the queue still lives in memory for this page.
    }
  }

  /** `extras`: optional reply_to (seq), reply_quote ({author}) and content_note (topic). */
  add(body, extras = {}) {
    const item = { client_id: newClientId(), body, status: "queued", error: "", createdAt: Date.now(), ...extras };
    this.items.push(item);
    this.save();
    return item;
  }

  get(clientId) {
    return this.items.find((i) => i.client_id === clientId) || null;
  }

  set(clientId, changes) {
    const item = this.get(clientId);
    if (!item) return null;
    Object.assign(item, changes);
    this.save();
    return item;
  }

  remove(clientId) {
    const before = this.items.length;
    this.items = this.items.filter((i) => i.client_id !== clientId);
    if (this.items.length !== before) this.save();
    return this.items.length !== before;
  }
}

function safeSessionStorage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
