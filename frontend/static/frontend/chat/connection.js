// One WebSocket per open room, kept alive across network drops and server restarts.
//
// Reconnect timing follows docs/protocol.md exactly: min(30 s, 0.5 s × 2^attempt) × a random
// factor in [0.5, 1.5], so a restarted server is not hit by every client at the same moment.
// The attempt counter is reset only by `room.joined`, not by a bare `open`: a socket that is
// accepted and then refused (4401, 4403…) must not reset the back-off.

/** Close codes after which reconnecting cannot help (docs/protocol.md, "Connecting"). */
export const FATAL_CLOSE_CODES = new Map([
  [4401, "not_authenticated"],
  [4403, "forbidden"],
  [4404, "not_found"],
  [4409, "too_many_sockets"],
  [4410, "suspended"],
]);

const FATAL_DEFAULT_MESSAGES = {
  not_authenticated: "You are logged out.",
  forbidden: "This room isn't open to you.",
  not_found: "This room doesn't exist any more.",
  too_many_sockets: "Kindred is open in too many other tabs or devices, so it was closed here.",
  suspended: "Your account has been paused.",
};

/** Milliseconds to wait before reconnect attempt number `attempt` (0-based). */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(30, 0.5 * 2 ** attempt);
  return base * (0.5 + random()) * 1000;
}

/** ws: or wss: URL for a same-host path, following the page's own protocol. */
export function socketUrl(path, location = window.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

/**
 * Events (all CustomEvents on the instance):
 *   "state"  detail {state, retryAt?, code?, reason?}; state is one of
 *            connecting | connected | reconnecting | offline | stopped
 *   "frame"  detail = the parsed server frame (an object with a string `type`)
 */
export class RoomConnection extends EventTarget {
  constructor(
    url,
    { pingIntervalMs = 25000, pongTimeoutMs = 10000, joinTimeoutMs = 15000, pingFrame = () => ({ type: "ping" }) } = {},
  ) {
    super();
    this.url = url;
    this.joinTimeoutMs = joinTimeoutMs;
    this.pingIntervalMs = pingIntervalMs;
    this.pongTimeoutMs = pongTimeoutMs;
    this.pingFrame = pingFrame;
    this.ws = null;
    this.state = "idle";
    this.joined = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.deadlineTimer = null;
    this.joinTimer = null;
    this.lastError = null; // the error frame that usually precedes a refusing close
    this._onOnline = () => this.reconnectNow();
    this._onOffline = () => {
      // The socket may look open for a while after the network is gone; don't wait for TCP.
      if (this.ws) this._abandon();
    };
    this._onVisible = () => {
      if (document.visibilityState !== "visible") return;
      if (this.state === "reconnecting") this.reconnectNow();
      // Back from the pocket: check the socket now rather than show "Connected" for up to
      // pingIntervalMs on a connection that died while the screen was off.
      else if (this.joined) this._ping();
    };
  }

  start() {
    window.addEventListener("online", this._onOnline);
    window.addEventListener("offline", this._onOffline);
    document.addEventListener("visibilitychange", this._onVisible);
    this._connect();
  }

  /** Send a frame if the room is joined; returns false (and sends nothing) otherwise. */
  send(frame) {
    if (!this.joined || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Skip the remaining back-off wait (user pressed "Try now", or the network came back). */
  reconnectNow() {
    if (this.state !== "reconnecting" && this.state !== "offline") return;
    clearTimeout(this.retryTimer);
    this._connect();
  }

  _setState(state, extra = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...extra } }));
  }

  _connect() {
    clearTimeout(this.retryTimer);
    this.joined = false;
    this.lastError = null;
    this._setState("connecting", { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.error("kindred: cannot open socket", err);
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    // A socket that opens (or hangs opening) but never says "joined" — a phone between networks,
    // a server stuck mid-handshake — would otherwise show "Connecting…" for ever: give up on it
    // and try again with the usual back-off.
    clearTimeout(this.joinTimer);
    this.joinTimer = setTimeout(() => {
      if (ws === this.ws && !this.joined) this._abandon();
    }, this.joinTimeoutMs);
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      this._onMessage(event);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return;
      this._onClose(event);
    });
  }

  _onMessage(event) {
    this._armDeadline(false);
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      console.warn("kindred: ignoring a frame that is not JSON");
      return;
    }
    if (!frame || typeof frame !== "object" || typeof frame.type !== "string") return;
    if (frame.type === "error" && !this.joined) this.lastError = frame;
    if (frame.type === "room.joined") {
      clearTimeout(this.joinTimer);
      this.joined = true;
      this.attempt = 0;
      this._startPing();
      this._setState("connected");
    }
    this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
  }

  _onClose(event) {
    clearTimeout(this.joinTimer);
    this.ws = null;
    this.joined = false;
    this._stopPing();
    const fatal = FATAL_CLOSE_CODES.get(event.code);
    if (fatal) {
      this._stop(fatal, event.code);
      return;
    }
    this._scheduleReconnect();
  }

  _stop(code, closeCode) {
    window.removeEventListener("online", this._onOnline);
    window.removeEventListener("offline", this._onOffline);
    document.removeEventListener("visibilitychange", this._onVisible);
    const reason = (this.lastError && this.lastError.message) || FATAL_DEFAULT_MESSAGES[code];
    this._setState("stopped", { code, closeCode, reason });
  }

  _scheduleReconnect() {
    clearTimeout(this.retryTimer);
    if (navigator.onLine === false) {
      // The "online" event will bring us back; retrying now would only fail.
      this._setState("offline");
      return;
    }
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this._connect(), delay);
    this._setState("reconnecting", { retryAt: Date.now() + delay });
  }

  // The JSON ping is how this page learns that its socket died without a close (a phone that
  // changed networks); nobody sees that while the page is hidden, so a hidden page does not ping
  // and checks again the moment it is shown. The server learns that a hidden page is gone from
  // its own WebSocket pings, which the browser answers without waking this script
  // (docs/performance.md, "What an idle member costs").
  _startPing() {
    this._stopPing();
    this.pingTimer = setInterval(() => {
      if (document.visibilityState !== "hidden") this._ping();
    }, this.pingIntervalMs);
  }

  _ping() {
    if (this.send(this.pingFrame())) this._armDeadline(true);
  }

  _stopPing() {
    clearInterval(this.pingTimer);
    clearTimeout(this.deadlineTimer);
    this.pingTimer = null;
    this.deadlineTimer = null;
  }

  // After a ping, some frame (at least the pong) must arrive within pongTimeoutMs; otherwise the
  // connection is dead without anyone having told us (phones changing networks do this), so we
  // drop it and reconnect rather than show "Connected" on a socket that goes nowhere.
  _armDeadline(arm) {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    if (!arm) return;
    const ws = this.ws;
    this.deadlineTimer = setTimeout(() => {
      if (ws && ws === this.ws) this._abandon();
    }, this.pongTimeoutMs);
  }

  // Drop the current socket without waiting for a closing handshake that may never come.
  _abandon() {
    const ws = this.ws;
    this.ws = null; // its late close event is ignored by the listeners above
    this.joined = false;
    this._stopPing();
    try {
      ws.close(4000, "reconnecting");
    } catch {
      // already closed
    }
    this._scheduleReconnect();
  }
}
