// ConversationSocket's seq bookkeeping, with a fake WebSocket and fake timers:
// `node --test tests/js/socket.test.mjs`.

import assert from "node:assert/strict";
import { test } from "node:test";

import { ConversationSocket } from "../../static/js/socket.js";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const C = "cccccccc-0000-4000-8000-000000000003";

class FakeWebSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0; // CONNECTING
    this.sent = [];
    this.listeners = new Map();
  }

  addEventListener(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(listener);
  }

  emit(type, event = {}) {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  send(data) {
    assert.equal(this.readyState, 1, "sent on a socket that is not open");
    this.sent.push(JSON.parse(data));
  }

  close() {
    this.drop();
  }

  // --- the test's side of the line ---

  open() {
    this.readyState = 1;
    this.emit("open");
  }

  deliver(event) {
    this.emit("message", { data: JSON.stringify(event) });
  }

  drop() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit("close");
  }

  takeSent() {
    return this.sent.splice(0);
  }
}

// A socket on a fake line: `line.ws` is the current connection, `line.events` what the
// page was handed, `line.reconnect()` fires the pending reconnect timer.
function setUp({ protocol = "http:" } = {}) {
  const line = {
    sockets: [],
    events: [],
    unknown: [],
    timers: new Map(),
    nextTimer: 1,
    clock: 1_000_000,
  };
  const environment = {
    connect: (url) => {
      const ws = new FakeWebSocket(url);
      line.sockets.push(ws);
      return ws;
    },
    location: { protocol, host: "ponder.test:8000" },
    setTimeout: (callback, ms) => {
      const id = line.nextTimer++;
      line.timers.set(id, { callback, ms });
      return id;
    },
    clearTimeout: (id) => line.timers.delete(id),
    now: () => line.clock,
  };
  line.socket = new ConversationSocket(
    "conv-1",
    {
      onEvent: (event) => line.events.push(event),
      onUnknownMessage: (id) => line.unknown.push(id),
    },
    environment,
  );
  Object.defineProperty(line, "ws", { get: () => line.sockets.at(-1) });
  line.runTimers = () => {
    const due = [...line.timers.values()];
    line.timers.clear();
    for (const { callback } of due) callback();
  };
  line.reconnect = () => {
    const before = line.sockets.length;
    line.runTimers();
    assert.equal(line.sockets.length, before + 1, "no reconnect was scheduled");
    line.ws.open();
  };
  return line;
}

const delta = (messageId, seq, content = `c${seq}`) => ({
  type: "delta",
  message_id: messageId,
  seq,
  reasoning: "",
  content,
});
const status = (messageId, seq, value) => ({
  type: "status",
  message_id: messageId,
  seq,
  status: value,
});
const snapshot = (messageId, seq, fields = {}) => ({
  type: "snapshot",
  message_id: messageId,
  seq,
  reasoning: "thought",
  content: "answer so far",
  status: "streaming",
  ...fields,
});
const resume = (messageId, afterSeq) => ({
  type: "resume",
  message_id: messageId,
  after_seq: afterSeq,
});
const seqs = (events) => events.map((event) => event.seq);

test("connects to the conversation's websocket, wss under https", () => {
  assert.equal(setUp().ws.url, "ws://ponder.test:8000/ws/conversations/conv-1/");
  assert.equal(
    setUp({ protocol: "https:" }).ws.url,
    "wss://ponder.test:8000/ws/conversations/conv-1/",
  );
});

test("tracking asks for a replay at once when open, else on opening", () => {
  const line = setUp();
  line.socket.track(A, 0);
  assert.deepEqual(line.ws.takeSent(), []);
  line.ws.open();
  assert.deepEqual(line.ws.takeSent(), [resume(A, 0)]);
  line.socket.track(B, 4);
  line.socket.track(B, 0); // already tracked: no second replay
  assert.deepEqual(line.ws.takeSent(), [resume(B, 4)]);
});

test("events are handed over in seq order and duplicates are dropped", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.ws.open();
  for (const seq of [1, 2, 2, 1, 3, 3]) line.ws.deliver(delta(A, seq));
  line.ws.deliver(status(A, 3, "streaming")); // seq <= last: dropped too
  line.ws.deliver(status(A, 4, "complete"));
  assert.deepEqual(seqs(line.events), [1, 2, 3, 4]);
  assert.deepEqual(
    line.events.map((event) => event.type),
    ["delta", "delta", "delta", "status"],
  );
  assert.deepEqual(line.events[0], delta(A, 1));
});

test("each message keeps its own seq", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.socket.track(B, 0);
  line.ws.open();
  line.ws.deliver(delta(A, 1));
  line.ws.deliver(delta(B, 1));
  line.ws.deliver(delta(A, 2));
  line.ws.deliver(delta(B, 1));
  assert.deepEqual(
    line.events.map((event) => [event.message_id, event.seq]),
    [
      [A, 1],
      [B, 1],
      [A, 2],
    ],
  );
});

test("a gap asks once for a replay after the last seq, which fills it", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.ws.open();
  line.ws.takeSent();
  line.ws.deliver(delta(A, 1));
  line.ws.deliver(delta(A, 3)); // 2 went missing
  line.ws.deliver(delta(A, 4));
  assert.deepEqual(seqs(line.events), [1]);
  assert.deepEqual(line.ws.takeSent(), [resume(A, 1)]);
  for (const seq of [2, 3, 4, 5]) line.ws.deliver(delta(A, seq)); // the replay, then live
  assert.deepEqual(seqs(line.events), [1, 2, 3, 4, 5]);
  line.ws.deliver(delta(A, 7)); // a later gap asks again
  assert.deepEqual(line.ws.takeSent(), [resume(A, 5)]);
});

test("an event of a message it does not track is reported, not handed over", () => {
  const line = setUp();
  line.ws.open();
  line.ws.deliver(delta(C, 1));
  line.ws.deliver(snapshot(C, 3));
  assert.deepEqual(line.events, []);
  assert.deepEqual(line.unknown, [C, C]);
});

test("after a reconnect every unfinished message resumes from its last seq", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.socket.track(B, 0);
  line.socket.track(C, 0);
  line.ws.open();
  line.ws.takeSent();
  for (const seq of [1, 2, 3]) line.ws.deliver(delta(A, seq));
  line.ws.deliver(delta(B, 1));
  line.ws.drop();
  assert.equal(line.socket.isOpen, false);
  line.reconnect();
  assert.deepEqual(line.ws.takeSent(), [resume(A, 3), resume(B, 1), resume(C, 0)]);
  line.ws.deliver(delta(A, 3)); // replayed again: dropped
  line.ws.deliver(delta(A, 4));
  assert.deepEqual(seqs(line.events), [1, 2, 3, 1, 4]);
});

test("a finished message is no longer resumed", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.socket.track(B, 0);
  line.ws.open();
  line.ws.deliver(delta(A, 1));
  line.ws.deliver(status(A, 2, "cancelled"));
  line.ws.deliver(delta(B, 1));
  line.ws.deliver(status(B, 2, "streaming")); // not an end
  line.ws.drop();
  line.reconnect();
  assert.deepEqual(line.ws.takeSent(), [resume(B, 2)]);
});

test("a snapshot is handed over as is and the seq goes on from its seq", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.ws.open();
  line.ws.takeSent();
  line.ws.deliver(delta(A, 1));
  const sent = snapshot(A, 40);
  line.ws.deliver(sent); // far past 1: no gap, it replaces everything up to 40
  assert.deepEqual(line.events.at(-1), sent);
  assert.deepEqual(line.ws.takeSent(), []);
  line.ws.deliver(delta(A, 40)); // already in the snapshot
  line.ws.deliver(delta(A, 41));
  assert.deepEqual(seqs(line.events), [1, 40, 41]);
  line.ws.drop();
  line.reconnect();
  assert.deepEqual(line.ws.takeSent(), [resume(A, 41)]);
});

test("a snapshot answers a pending gap resume", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.ws.open();
  line.ws.takeSent();
  line.ws.deliver(delta(A, 1));
  line.ws.deliver(delta(A, 5));
  assert.deepEqual(line.ws.takeSent(), [resume(A, 1)]);
  line.ws.deliver(snapshot(A, 5));
  line.ws.deliver(delta(A, 6));
  assert.deepEqual(seqs(line.events), [1, 5, 6]);
  line.ws.deliver(delta(A, 8)); // a new gap after the snapshot asks from its seq on
  assert.deepEqual(line.ws.takeSent(), [resume(A, 6)]);
});

test("a snapshot older than what the page has is dropped", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.ws.open();
  for (const seq of [1, 2, 3]) line.ws.deliver(delta(A, seq));
  line.ws.deliver(snapshot(A, 2));
  line.ws.deliver(delta(A, 4));
  assert.deepEqual(seqs(line.events), [1, 2, 3, 4]);
});

test("a snapshot of a finished reply ends the following", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.socket.track(B, 0);
  line.ws.open();
  line.ws.deliver(snapshot(A, 9, { status: "complete" }));
  line.ws.deliver(snapshot(B, 9)); // still streaming
  line.ws.drop();
  line.reconnect();
  assert.deepEqual(line.ws.takeSent(), [resume(B, 9)]);
});

test("ready() waits for the socket to open, or gives up", async () => {
  const line = setUp();
  const opening = line.socket.ready(1000);
  line.ws.open();
  assert.equal(await opening, true);
  assert.equal(await line.socket.ready(), true);
  line.ws.drop();
  const waiting = line.socket.ready(1000);
  const timeout = [...line.timers.values()].findLast((timer) => timer.ms === 1000);
  timeout.callback();
  assert.equal(await waiting, false);
});

test("close() stops reconnecting", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.ws.open();
  line.ws.drop(); // schedules a reconnect
  assert.equal(line.timers.size, 1);
  line.socket.close();
  assert.equal(line.timers.size, 0);
  line.runTimers();
  assert.equal(line.sockets.length, 1);
});

test("a message that is not JSON, or of another type, is ignored", () => {
  const line = setUp();
  line.socket.track(A, 0);
  line.ws.open();
  line.ws.emit("message", { data: "not json" });
  line.ws.deliver({ type: "error", code: "invalid_after_seq" });
  line.ws.deliver({ type: "resume", message_id: A, seq: 1 });
  assert.deepEqual(line.events, []);
  assert.deepEqual(line.unknown, []);
});

test("an unfinished reply that goes quiet is asked for again until it moves", () => {
  const line = setUp();
  line.ws.open();
  line.socket.track(A, 0);
  line.ws.deliver(delta(A, 1));
  line.ws.deliver(delta(A, 3)); // a gap the server cannot fill yet
  assert.deepEqual(line.ws.takeSent(), [resume(A, 0), resume(A, 1)]);
  line.clock += 1000;
  line.runTimers();
  assert.deepEqual(line.ws.takeSent(), [], "not quiet yet");
  line.clock += 3000;
  line.runTimers();
  assert.deepEqual(line.ws.takeSent(), [resume(A, 1)]);
  line.clock += 3000;
  line.runTimers();
  assert.deepEqual(line.ws.takeSent(), [resume(A, 1)], "and again while the gap stays open");
  line.ws.deliver(snapshot(A, 5, { status: "complete" }));
  line.clock += 10_000;
  line.runTimers();
  assert.deepEqual(line.ws.takeSent(), [], "a finished reply is left alone");
  assert.deepEqual(seqs(line.events), [1, 5]);
});
