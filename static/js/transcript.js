// The messages of the open conversation as turns: a user message and the versions
// of its reply (regenerations share `reply_to`), one of them active.

export class Transcript {
  constructor(messages = []) {
    this.byId = new Map();
    this.turns = []; // user message ids, in order (or a lone assistant id)
    this.versions = new Map(); // turn id -> assistant ids, oldest first
    this.active = new Map(); // turn id -> assistant id on screen
    for (const message of messages) this.add(message, { activate: false });
    for (const [turn, ids] of this.versions) {
      if (!this.active.has(turn) && ids.length) this.active.set(turn, ids[ids.length - 1]);
    }
  }

  has(id) {
    return this.byId.has(id);
  }

  get(id) {
    return this.byId.get(id);
  }

  get isEmpty() {
    return this.turns.length === 0;
  }

  add(message, { activate = true } = {}) {
    this.byId.set(message.id, message);
    if (message.role === "user" || !message.reply_to) {
      this.turns.push(message.id);
      this.versions.set(message.id, message.role === "user" ? [] : [message.id]);
      if (message.role !== "user") this.active.set(message.id, message.id);
      return;
    }
    const turn = message.reply_to;
    if (!this.versions.has(turn)) this.versions.set(turn, []);
    this.versions.get(turn).push(message.id);
    if (activate || message.is_active_version) this.setActive(message.id);
  }

  turnOf(assistantId) {
    const message = this.byId.get(assistantId);
    return message?.reply_to ?? assistantId;
  }

  setActive(assistantId) {
    const turn = this.turnOf(assistantId);
    for (const id of this.versions.get(turn) ?? []) {
      this.byId.get(id).is_active_version = id === assistantId;
    }
    this.active.set(turn, assistantId);
  }

  // [index, count] of an assistant message among its turn's versions.
  position(assistantId) {
    const ids = this.versions.get(this.turnOf(assistantId)) ?? [assistantId];
    return [ids.indexOf(assistantId), ids.length];
  }

  sibling(assistantId, step) {
    const ids = this.versions.get(this.turnOf(assistantId)) ?? [];
    return ids[ids.indexOf(assistantId) + step] ?? null;
  }

  // Message ids on screen, in order.
  *visible() {
    for (const turn of this.turns) {
      const first = this.byId.get(turn);
      if (first.role === "user") yield turn;
      const active = this.active.get(turn);
      if (active) yield active;
    }
  }

  *assistants() {
    for (const message of this.byId.values()) {
      if (message.role === "assistant") yield message;
    }
  }
}
