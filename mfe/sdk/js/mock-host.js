// A stand-in for the shell's host API, so a micro app can be tested (or developed on a page of
// its own) without the shell, the outbox or any region.
//
// `new MockHost().host` has exactly the shape of the object the shell passes in `props.host`
// (src/host_api.rs) and checks its arguments the same way, with the same messages: an app that
// passes here is not refused by the shell for the shape of what it sends. Everything else on a
// MockHost is for the test or the dev page: what the app did (`commands`, `events`, `queries`,
// `navigations`, `log`) and what the world does (`deliverAll`, `failNext`, `setOffline`,
// `emit`, `answer`).
//
// Plain ES module, no dependencies and no build step: Rust tests load it through wasm-bindgen
// (the `testing` feature of mfe-sdk) and JavaScript apps import it directly.

/** `HOST_API_VERSION` in crates/contract; the shell refuses apps that require a newer one. */
export const API_VERSION = 1;

// Limits of src/host_api.rs and src/runtime/{bus,events}.rs. Sizes count UTF-8 bytes of the
// JSON text, as the shell's Rust code does.
const MAX_NAME = 100;
const MAX_PAYLOAD = 60 * 1024;
const MAX_DEPTH = 32;
const MAX_TOPIC = 100;
const MAX_EVENT_BYTES = 32 * 1024;
const MAX_SUBSCRIPTIONS = 256;

const utf8 = new TextEncoder();

function bytes(text) {
  return utf8.encode(text).length;
}

/** A command id like the shell's: a UUID v7, so ids sort by creation time. */
function commandId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Copies `payload` through JSON, as the shell does before storing or delivering it, so the app
 * never shares an object with the host (or with another app). Functions, symbols, BigInts and
 * cycles are refused rather than silently dropped: the shell refuses them too.
 */
function plainCopy(payload) {
  let text;
  try {
    text = JSON.stringify(payload === undefined ? null : payload, (_key, value) => {
      if (typeof value === 'function' || typeof value === 'symbol') {
        throw new TypeError(`a ${typeof value} is not data`);
      }
      return value;
    });
  } catch (e) {
    throw new Error(`payload is not plain data: ${e.message}`);
  }
  return { text, value: JSON.parse(text) };
}

/** Whether arrays and objects nest deeper than `limit` (scalars open no level), without recursion. */
function deeperThan(value, limit) {
  const stack = [[value, 0]];
  while (stack.length > 0) {
    const [v, outer] = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const depth = outer + 1;
    if (depth > limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth]);
  }
  return false;
}

function checkName(what, value) {
  if (typeof value !== 'string') throw new Error(`${what} must be a string`);
  const length = bytes(value);
  if (length === 0 || length > MAX_NAME) {
    throw new Error(`${what} must be 1 to ${MAX_NAME} characters`);
  }
}

function checkTopic(topic) {
  if (typeof topic !== 'string') throw new Error('topic must be a string');
  if (topic.length === 0 || topic.length > MAX_TOPIC || !/^[\x21-\x7e]+$/.test(topic)) {
    throw new Error(`topic must be 1 to ${MAX_TOPIC} printable characters without spaces`);
  }
}

/**
 * A mock host. Options:
 * - `region`: name of the region that "acknowledges" commands and answers queries
 *   (default `"mock-region"`);
 * - `answers`: `{ path: data }` scripted query answers (more with `answer()`);
 * - `deliverAfterMs`: deliver pending commands on their own after this delay; `null` (the
 *   default) leaves them pending until the test calls `deliverAll()`;
 * - `regions`: what `host.regions()` returns (the shell's router snapshot), default `null`.
 */
export class MockHost {
  constructor({ region = 'mock-region', answers = {}, deliverAfterMs = null, regions = null } = {}) {
    this.region = region;
    this.deliverAfterMs = deliverAfterMs;
    this.offline = false;
    /** `{ id, kind, stream, payload, status, attempts, lastError, region, at }`, oldest first. */
    this.commands = [];
    /** What the app published: `{ topic, payload, at }` (not what `emit()` sent). */
    this.events = [];
    /** Every `host.query`: `{ path, at, stale, error }` (`error` null when it resolved). */
    this.queries = [];
    /** Paths the app asked the shell to navigate to. */
    this.navigations = [];
    /** Everything, in order: `{ at, type, detail }`. */
    this.log = [];
    this._answers = new Map();
    this._cache = new Map();
    this._regions = regions;
    this._failures = [];
    this._statusListeners = new Set();
    this._subscriptions = new Map();
    this._nextSubscription = 1;
    this._logListeners = new Set();
    for (const [path, data] of Object.entries(answers)) this.answer(path, data);
    this.host = this._createHost();
  }

  _record(type, detail) {
    const entry = { at: Date.now(), type, detail };
    this.log.push(entry);
    for (const listener of [...this._logListeners]) listener(entry);
  }

  /** Calls `cb(entry)` for each new log entry (a dev page renders them live). */
  onLog(cb) {
    this._logListeners.add(cb);
    return () => this._logListeners.delete(cb);
  }

  /** The object the shell passes as `props.host`: the same functions, checks and messages. */
  _createHost() {
    const reject = (call, error) => {
      this._record('rejected', { call, message: error.message });
      throw error;
    };
    return {
      // Resolves once the command is durable (here: in memory), never when a region has it.
      dispatch: async (kind, stream, payload) => {
        // The shell does its work in a later task: nothing runs inside the caller's stack.
        await undefined;
        let copy;
        try {
          checkName('kind', kind);
          checkName('stream', stream);
          copy = plainCopy(payload);
          if (deeperThan(copy.value, MAX_DEPTH)) {
            throw new Error(`payload is nested deeper than ${MAX_DEPTH} levels`);
          }
          const size = bytes(copy.text);
          if (size > MAX_PAYLOAD) {
            throw new Error(`payload is ${size} bytes; the limit is ${MAX_PAYLOAD}`);
          }
        } catch (error) {
          reject('dispatch', error);
        }
        const command = {
          id: commandId(),
          kind,
          stream,
          payload: copy.value,
          status: 'pending',
          attempts: 0,
          lastError: null,
          region: null,
          at: Date.now(),
        };
        this.commands.push(command);
        this._record('dispatch', { id: command.id, kind, stream, payload: copy.value });
        this._tell(command);
        this._scheduleDelivery();
        return command.id;
      },

      commandStatus: (id) => this.commands.find((c) => c.id === id)?.status ?? null,

      onCommandStatus: (cb) => {
        if (typeof cb !== 'function') return undefined;
        this._statusListeners.add(cb);
        return () => this._statusListeners.delete(cb);
      },

      query: async (path) => {
        await undefined;
        try {
          if (typeof path !== 'string' || !path.startsWith('/q/') || path.includes('..') || bytes(path) >= 512) {
            throw new Error('query path must start with /q/');
          }
          let answer;
          if (this.offline) {
            const cached = this._cache.get(path);
            if (!cached) {
              throw new Error('no region answered and nothing is cached (this device is offline)');
            }
            answer = { ...JSON.parse(cached), stale: true };
          } else {
            if (!this._answers.has(path)) throw new Error(`no scripted answer for ${path}`);
            answer = { data: JSON.parse(this._answers.get(path)), asOf: Date.now(), region: this.region, stale: false };
            this._cache.set(path, JSON.stringify(answer));
          }
          this.queries.push({ path, at: Date.now(), stale: answer.stale, error: null });
          this._record('query', { path, stale: answer.stale });
          return answer;
        } catch (error) {
          this.queries.push({ path, at: Date.now(), stale: false, error: error.message });
          reject('query', error);
        }
      },

      regions: () => (this._regions === null ? null : JSON.parse(JSON.stringify(this._regions))),

      // The shell ignores anything that is not an absolute path, without an error.
      navigate: (path) => {
        if (typeof path !== 'string' || !path.startsWith('/')) {
          this._record('navigate-ignored', { path: String(path) });
          return;
        }
        this.navigations.push(path);
        this._record('navigate', { path });
      },

      publish: (topic, payload) => {
        let value;
        try {
          value = this._send(topic, payload);
        } catch (error) {
          reject('publish', error);
        }
        this.events.push({ topic, payload: value, at: Date.now() });
        this._record('publish', { topic, payload: value });
      },

      subscribe: (topic, cb) => {
        try {
          checkTopic(topic);
          if (typeof cb !== 'function') throw new Error('callback must be a function');
          if (this._subscriptions.size >= MAX_SUBSCRIPTIONS) {
            throw new Error(`an app may hold at most ${MAX_SUBSCRIPTIONS} subscriptions`);
          }
        } catch (error) {
          reject('subscribe', error);
        }
        const id = this._nextSubscription++;
        this._subscriptions.set(id, { topic, cb });
        this._record('subscribe', { topic });
        return () => {
          if (this._subscriptions.delete(id)) this._record('unsubscribe', { topic });
        };
      },

      apiVersion: API_VERSION,
    };
  }

  /**
   * Checks an event and delivers a JSON copy to each subscriber in a later microtask, as the
   * shell does: a publisher never runs a subscriber's code inside its own call, and
   * subscribers are looked up at delivery time (one that unsubscribed in between gets nothing).
   * Returns a copy of the payload for the records.
   */
  _send(topic, payload) {
    checkTopic(topic);
    const { text } = plainCopy(payload);
    const size = bytes(text);
    if (size > MAX_EVENT_BYTES) {
      throw new Error(`payload is ${size} bytes; events may carry at most ${MAX_EVENT_BYTES}`);
    }
    queueMicrotask(() => {
      for (const { topic: t, cb } of [...this._subscriptions.values()]) {
        if (t !== topic) continue;
        try {
          cb(JSON.parse(text));
        } catch (e) {
          // One subscriber throwing must not stop delivery to the others.
          console.warn('an event subscriber threw:', e);
        }
      }
    });
    return JSON.parse(text);
  }

  /** Tells every `onCommandStatus` listener about `command`, each with its own copy. */
  _tell(command) {
    const { id, status, attempts, lastError, region } = command;
    this._record('status', { id, status, attempts, lastError, region });
    for (const cb of [...this._statusListeners]) {
      try {
        cb({ id, status, attempts, lastError, region });
      } catch (e) {
        console.warn("an app's onCommandStatus callback threw:", e);
      }
    }
  }

  _scheduleDelivery() {
    if (this.deliverAfterMs !== null) setTimeout(() => this.deliverAll(), this.deliverAfterMs);
  }

  /** Scripts the answer to `host.query(path)` (a JSON copy of `data`). */
  answer(path, data) {
    this._answers.set(path, JSON.stringify(data ?? null));
    this._record('answer', { path });
  }

  /**
   * Delivers every pending command, oldest first: each goes inflight (one more attempt), then
   * delivered by this mock's region — or dead, if `failNext` armed a failure. Listeners see
   * every step, as they do in the shell. Offline, nothing is sent and everything stays pending.
   */
  deliverAll() {
    if (this.offline) return;
    for (const command of this.commands.filter((c) => c.status === 'pending')) {
      command.status = 'inflight';
      command.attempts += 1;
      this._tell(command);
      command.region = this.region;
      const reason = this._failures.shift();
      if (reason === undefined) {
        command.status = 'delivered';
        command.lastError = null;
      } else {
        command.status = 'dead';
        command.lastError = reason;
      }
      this._tell(command);
    }
  }

  /** The next delivery attempt fails for good: that command (the oldest pending) goes dead with `reason`. */
  failNext(reason) {
    this._failures.push(String(reason));
    this._record('fail-next', { reason: String(reason) });
  }

  /**
   * Offline, commands stay pending and queries answer from the cache (`stale: true`), or
   * reject when nothing was answered before. Back online, automatic delivery resumes.
   */
  setOffline(offline) {
    this.offline = Boolean(offline);
    this._record('network', { offline: this.offline });
    if (!this.offline && this.commands.some((c) => c.status === 'pending')) this._scheduleDelivery();
  }

  /** Sets what `host.regions()` returns (the shell's router snapshot, or null). */
  setRegions(snapshot) {
    this._regions = snapshot ?? null;
  }

  /** Publishes as if another app had: checked and delivered like `host.publish`, not recorded in `events`. */
  emit(topic, payload) {
    this._record('emit', { topic, payload: this._send(topic, payload) });
  }

  /** What the shell does when the app unmounts: every subscription it made ends. */
  endMount() {
    this._statusListeners.clear();
    this._subscriptions.clear();
    this._record('end-mount', {});
  }

  /** Live `subscribe` and `onCommandStatus` registrations (an app should leave none after unmount). */
  get liveSubscriptions() {
    return this._subscriptions.size + this._statusListeners.size;
  }

  /** The lifecycle props the shell passes to `bootstrap`, `mount` and `unmount`. */
  props(element, { name = 'mock-app', version = '0.0.0', basePath = '/', params = {}, slot = 'main' } = {}) {
    return { element, host: this.host, name, version, basePath, params, slot };
  }
}
