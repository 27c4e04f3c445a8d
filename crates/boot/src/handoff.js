// The boot module's side of handing a running app over to the shell (see lib.rs).

// A host object for an app mounted before the shell runs. Calls that need the shell (commands,
// queries, navigation, events) wait for the shell's real host object and then go to it, in the
// order they were made; `plug` hands that object over. Reads that cannot wait answer as the
// shell does before it knows anything: no command status, no region list.
export function proxy_host(apiVersion) {
  let real = null;
  const waiting = [];
  const run = (call) => {
    try {
      call(real);
    } catch (e) {
      console.warn('a call the app made before the shell started failed:', e);
    }
  };
  const when = (call) => (real ? call(real) : void waiting.push(call));
  const answer = (call) =>
    real ? call(real) : new Promise((resolve, reject) => waiting.push((h) => {
      try {
        resolve(call(h));
      } catch (e) {
        reject(e);
      }
    }));
  // A subscription made before the shell runs starts when it does; the function returned ends
  // it either way.
  const subscription = (start) => {
    if (real) return start(real);
    let stop = null;
    let ended = false;
    waiting.push((h) => {
      if (!ended) stop = start(h);
    });
    return () => {
      ended = true;
      if (typeof stop === 'function') stop();
    };
  };
  const host = {
    apiVersion,
    dispatch: (kind, stream, payload) => answer((h) => h.dispatch(kind, stream, payload)),
    query: (path) => answer((h) => h.query(path)),
    commandStatus: (id) => (real ? real.commandStatus(id) : null),
    onCommandStatus: (callback) => subscription((h) => h.onCommandStatus(callback)),
    regions: () => (real ? real.regions() : null),
    navigate: (path) => when((h) => h.navigate(path)),
    publish: (topic, payload) => when((h) => h.publish(topic, payload)),
    subscribe: (topic, callback) => subscription((h) => h.subscribe(topic, callback)),
  };
  const plug = (shellHost) => {
    if (real) return;
    real = shellHost;
    for (const call of waiting.splice(0)) run(call);
  };
  return { host, plug };
}

// Watches for uncaught errors thrown by code from `script` (the app's glue, imported from that
// blob: URL, so every stack through it names it) while the boot module is the app's only owner.
export function watch_errors(script) {
  if (Error.stackTraceLimit < 100) Error.stackTraceLimit = 100;
  let reason = null;
  const seen = (error, filename) => {
    const stack = (error && error.stack) || '';
    if (reason === null && (stack.includes(script) || filename === script)) {
      reason = (error && error.message) || String(error);
    }
  };
  const onError = (e) => seen(e.error, e.filename);
  const onRejection = (e) => seen(e.reason, '');
  addEventListener('error', onError);
  addEventListener('unhandledrejection', onRejection);
  return {
    crashed: () => reason,
    stop: () => {
      removeEventListener('error', onError);
      removeEventListener('unhandledrejection', onRejection);
    },
  };
}

// Resolves once the document is parsed (at once if it is): the frame goes into <body>.
export function parsed() {
  if (document.readyState !== 'loading') return Promise.resolve();
  return new Promise((resolve) => addEventListener('DOMContentLoaded', () => resolve(), { once: true }));
}
