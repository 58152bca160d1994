// The websocket of docs/api.md: one per open conversation, resuming every
// unfinished reply from the last seq it has after each (re)connect.

import { FINISHED } from "./statuses.js";

const MAX_BACKOFF_MS = 15000;
// An unfinished reply silent this long is asked for again: a gap the server could not
// fill yet, or an end that never came live, is caught up without a reload.
const QUIET_MS = 3000;
const OPEN = 1; // WebSocket.OPEN
const EVENT_TYPES = new Set(["delta", "status", "snapshot"]);

// What the socket needs from the browser; tests pass their own.
function browserEnvironment() {
  return {
    connect: (url) => new WebSocket(url),
    location: window.location,
    setTimeout: (callback, ms) => window.setTimeout(callback, ms),
    clearTimeout: (id) => window.clearTimeout(id),
    now: () => Date.now(),
  };
}

export class ConversationSocket {
  // onEvent(event) gets each delta/status/snapshot once, in seq order per message;
  // onUnknownMessage(id) hears of a reply this page does not show (another tab).
  constructor(
    conversationId,
    { onEvent, onUnknownMessage, onConnectionChange },
    environment = browserEnvironment(),
  ) {
    this.conversationId = conversationId;
    this.onEvent = onEvent;
    this.onUnknownMessage = onUnknownMessage ?? (() => {});
    this.onConnectionChange = onConnectionChange ?? (() => {});
    this.env = environment;
    this.lastSeq = new Map(); // message id -> last seq handed to onEvent
    this.finished = new Set();
    this.resyncFrom = new Map(); // message id -> after_seq of a pending gap resume
    this.heardAt = new Map(); // message id -> when its last event (or resume) was
    this.now = environment.now ?? (() => Date.now());
    this.attempts = 0;
    this.closed = false;
    this.ws = null;
    this.openWaiters = [];
    this.connect();
  }

  get isOpen() {
    return this.ws?.readyState === OPEN;
  }

  connect() {
    const { location } = this.env;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${location.host}/ws/conversations/${this.conversationId}/`;
    const ws = this.env.connect(url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempts = 0;
      this.resyncFrom.clear();
      this.onConnectionChange(true);
      for (const [messageId, seq] of this.lastSeq) {
        if (!this.finished.has(messageId)) this.sendResume(messageId, seq);
      }
      this.watchQuietMessages();
      for (const resolve of this.openWaiters.splice(0)) resolve(true);
    });
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.env.clearTimeout(this.watchTimer);
      this.onConnectionChange(false);
      if (!this.closed) this.scheduleReconnect();
    });
  }

  // While open, ask again for every unfinished reply that has gone quiet.
  watchQuietMessages() {
    this.env.clearTimeout(this.watchTimer);
    this.watchTimer = this.env.setTimeout(() => {
      if (!this.isOpen) return;
      const now = this.now();
      for (const [messageId, seq] of this.lastSeq) {
        const quiet = now - (this.heardAt.get(messageId) ?? 0) >= QUIET_MS;
        if (!this.finished.has(messageId) && quiet) this.sendResume(messageId, seq);
      }
      this.watchQuietMessages();
    }, QUIET_MS);
  }

  scheduleReconnect() {
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempts);
    this.attempts += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    this.reconnectTimer = this.env.setTimeout(() => {
      if (!this.closed) this.connect();
    }, delay);
  }

  // Resolve true once the socket is open, or false after `timeoutMs`.
  ready(timeoutMs = 3000) {
    if (this.isOpen) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.openWaiters.push(resolve);
      this.env.setTimeout(() => resolve(false), timeoutMs);
    });
  }

  // Follow a reply: replay everything after `afterSeq`, then live events.
  track(messageId, afterSeq = 0) {
    if (this.lastSeq.has(messageId)) return;
    this.lastSeq.set(messageId, afterSeq);
    if (this.isOpen) this.sendResume(messageId, afterSeq);
  }

  sendResume(messageId, afterSeq) {
    this.heardAt.set(messageId, this.now());
    this.ws.send(JSON.stringify({ type: "resume", message_id: messageId, after_seq: afterSeq }));
  }

  receive(data) {
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (!EVENT_TYPES.has(event.type)) return;
    const messageId = event.message_id;
    const last = this.lastSeq.get(messageId);
    if (last === undefined) {
      this.onUnknownMessage(messageId);
      return;
    }
    if (event.type === "snapshot") {
      // The server could not replay: it sends the whole message as of `seq` instead,
      // and its events go on from seq + 1. One older than what we have is stale.
      if (event.seq < last) return;
    } else {
      if (event.seq <= last) return; // already seen (a replay overlapping live events)
      if (event.seq > last + 1) {
        // A gap: ask for what is missing once; the replay brings this event again.
        if (this.resyncFrom.get(messageId) !== last && this.isOpen) {
          this.resyncFrom.set(messageId, last);
          this.sendResume(messageId, last);
        }
        return;
      }
    }
    this.lastSeq.set(messageId, event.seq);
    this.heardAt.set(messageId, this.now());
    this.resyncFrom.delete(messageId);
    if (event.type !== "delta" && FINISHED.has(event.status)) this.finished.add(messageId);
    this.onEvent(event);
  }

  close() {
    this.closed = true;
    this.env.clearTimeout(this.reconnectTimer);
    this.env.clearTimeout(this.watchTimer);
    for (const resolve of this.openWaiters.splice(0)) resolve(false);
    this.ws?.close();
    this.ws = null;
  }
}
