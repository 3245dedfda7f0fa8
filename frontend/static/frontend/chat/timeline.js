// The ordered list of messages. Every seq the server delivers gets exactly one <li> (a held
// message we may not read is a hidden <li>), kept in seq order; own messages that have no seq yet
// sit after them. `lastSeq` is the highest seq held with no gap below it (docs/protocol.md).

import { fillMessage, renderMessage, renderPending, updatePending } from "./render.js";

const AT_BOTTOM_SLACK_PX = 48;

export class Timeline {
  constructor(list, scroller, viewer) {
    this.list = list;
    this.scroller = scroller;
    this.viewer = viewer;
    this.bySeq = new Map();
    this.pending = new Map(); // client_id → li
    this.lastSeq = 0;
    this.maxSeq = 0;
    this.started = false;
  }

  get firstSeq() {
    let first = null;
    for (const seq of this.bySeq.keys()) if (first === null || seq < first) first = seq;
    return first;
  }

  isAtBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight <= AT_BOTTOM_SLACK_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** On the very first room.joined: the joined messages are the tail of the room. */
  startAt(messages) {
    if (this.started) return;
    this.started = true;
    this.lastSeq = messages.length ? messages[0].seq - 1 : 0;
  }

  /**
   * Insert or update one message. Returns {added, changed}. Redelivery of a seq we hold (resume
   * after reconnect, ack + message.new) updates it in place, so a message removed while we were
   * away is removed here too.
   */
  upsert(message) {
    const seq = message.seq;
    if (!Number.isInteger(seq) || seq < 1) return { added: false, changed: false };
    const existing = this.bySeq.get(seq);
    if (existing) {
      const before = existing.dataset.state + "\u0000" + existing.textContent;
      fillMessage(existing, message, this.viewer);
      return { added: false, changed: before !== existing.dataset.state + "\u0000" + existing.textContent };
    }
    const li = renderMessage(message, this.viewer);
    this.list.insertBefore(li, this._nodeAfter(seq));
    this.bySeq.set(seq, li);
    if (seq > this.maxSeq) this.maxSeq = seq;
    if (this.started) while (this.bySeq.has(this.lastSeq + 1)) this.lastSeq += 1;
    return { added: true, changed: true };
  }

  /** True when something newer than lastSeq+1 is held: a gap we must resume over. */
  hasGap() {
    return this.maxSeq > this.lastSeq;
  }

  // The first element that must come after `seq`: the next higher seq, else the first pending
  // item, else nothing (append). New messages almost always go at the end, so look there first.
  _nodeAfter(seq) {
    if (seq > this.maxSeq) return this.list.querySelector(".msg-pending");
    for (const child of this.list.children) {
      const childSeq = Number(child.dataset.seq);
      if (child.classList.contains("msg-pending") || childSeq > seq) return child;
    }
    return null;
  }

  addPending(item) {
    const li = renderPending(item, this.viewer);
    this.list.append(li);
    this.pending.set(item.client_id, li);
    return li;
  }

  updatePending(item) {
    const li = this.pending.get(item.client_id);
    if (li) updatePending(li, item);
  }

  removePending(clientId) {
    const li = this.pending.get(clientId);
    if (!li) return false;
    li.remove();
    this.pending.delete(clientId);
    return true;
  }
}
