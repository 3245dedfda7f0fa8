// What goes with the next message besides its words: the message it replies to, a content note,
// or (instead of a new message) the own message being edited. One shared state for chat.js (which
// sends) and member-features.js (which sets it from a message's buttons). The markup is in
// chat/room.html; everything here works without it (the page then sends plain messages).

const $ = (id) => document.getElementById(id);

export const compose = {
  replyTo: null, // {seq, author, excerpt}
  editing: null, // {seq, body, content_note}
  editSent: false, // the edit went out; waiting for message.updated or an error
  ui: {
    context: $("compose-context"),
    contextText: $("compose-context-text"),
    contextCancel: $("compose-context-cancel"),
    noteToggle: $("note-toggle"),
    notePicker: $("note-picker"),
    note: $("content-note"),
    input: $("composer-input"),
    send: document.querySelector("#composer .send-button"),
  },

  get note() {
    return this.ui.note ? this.ui.note.value : "";
  },

  /** Fields for message.send: only what is set. */
  extras() {
    const extra = {};
    if (this.replyTo) {
      extra.reply_to = this.replyTo.seq;
      extra.reply_quote = { author: this.replyTo.author };
    }
    if (this.note) extra.content_note = this.note;
    return extra;
  },

  setReply(quote) {
    this.cancelEdit({ keepText: false });
    this.replyTo = quote;
    this._showContext();
    this.ui.input && this.ui.input.focus();
  },

  startEdit(message) {
    this.replyTo = null;
    this.editing = { seq: message.seq, body: message.body, content_note: message.content_note || "" };
    this.editSent = false;
    if (this.ui.input) {
      this.ui.input.value = message.body;
      this.ui.input.focus();
    }
    this.setNote(message.content_note || "", { open: Boolean(message.content_note) });
    if (this.ui.send) this.ui.send.textContent = "Save";
    this._showContext();
  },

  cancelEdit({ keepText = false } = {}) {
    if (!this.editing) return;
    this.editing = null;
    this.editSent = false;
    if (this.ui.input && !keepText) this.ui.input.value = "";
    if (this.ui.send) this.ui.send.textContent = "Send";
    this.setNote("", { open: false });
    this._showContext();
  },

  /** After a message went out (or an edit was saved): back to a blank composer. */
  reset() {
    this.replyTo = null;
    if (this.editing) this.cancelEdit({ keepText: true });
    this.setNote("", { open: false });
    this._showContext();
  },

  /** Put back what a refused message carried (content_note_required keeps her draft). */
  restore({ reply_to: seq, reply_quote: quote } = {}) {
    if (seq) this.replyTo = { seq, author: quote ? quote.author : "", excerpt: "" };
    this._showContext();
  },

  setNote(topic, { open = true, focus = false } = {}) {
    const { note, notePicker, noteToggle } = this.ui;
    if (!note) return;
    note.value = topic || "";
    if (notePicker) notePicker.hidden = !open;
    if (noteToggle) {
      noteToggle.setAttribute("aria-expanded", open ? "true" : "false");
      this._noteLabel();
    }
    if (focus) note.focus();
  },

  _noteLabel() {
    const { note, noteToggle } = this.ui;
    if (!noteToggle || !note) return;
    const chosen = note.value ? note.options[note.selectedIndex].textContent : "";
    noteToggle.textContent = chosen ? `Content note: ${chosen}` : "Add a content note";
  },

  _showContext() {
    const { context, contextText, contextCancel } = this.ui;
    if (!context) return;
    if (this.editing) {
      contextText.replaceChildren(strong("Editing your message"));
      contextCancel.textContent = "Cancel edit";
      context.hidden = false;
    } else if (this.replyTo) {
      const q = this.replyTo;
      contextText.replaceChildren(strong(`Replying to ${q.author || "a member"}`));
      if (q.excerpt) contextText.append(": ", span(q.excerpt));
      contextCancel.textContent = "Cancel reply";
      context.hidden = false;
    } else {
      context.hidden = true;
    }
  },

  wire() {
    const { contextCancel, noteToggle, note, notePicker } = this.ui;
    if (contextCancel) {
      contextCancel.addEventListener("click", () => {
        if (this.editing) this.cancelEdit();
        else {
          this.replyTo = null;
          this._showContext();
        }
        this.ui.input && this.ui.input.focus();
      });
    }
    if (noteToggle && notePicker) {
      noteToggle.addEventListener("click", () => {
        const open = notePicker.hidden;
        this.setNote(note.value, { open, focus: open });
        if (!open) noteToggle.focus();
      });
      note.addEventListener("change", () => this._noteLabel());
    }
  },
};

function strong(text) {
  const s = document.createElement("strong");
  s.textContent = text;
  return s;
}

function span(text) {
  const s = document.createElement("span");
  s.className = "compose-excerpt";
  s.textContent = text;
  return s;
}

compose.wire();
