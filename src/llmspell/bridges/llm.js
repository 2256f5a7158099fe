// llm.stream inside a JavaScript VM: without a callback it gives an async
// iterator over the chunks (which is also a thenable for the whole answer).
// Installed on the `llm` global by the engine (LlmBridge.vm_code); `vm` is
// the prelude's toolkit (see js_prelude.js, installBridgeCode).
(function (o, methods, vm) {
  "use strict";
  const streamId = methods.stream;
  if (streamId === undefined) return o;
  const call = vm.call;
  function streamIterator(opts) {
    const chunks = [];
    let wake = null, finished = false, failure = null;
    const whole = call(streamId, [opts, (d) => { chunks.push(d); if (wake) { wake(); wake = null; } }]);
    whole.then(() => { finished = true; if (wake) wake(); }, (e) => { failure = e; finished = true; if (wake) wake(); });
    return {
      [Symbol.asyncIterator]() { return this; },
      async next() {
        while (!chunks.length && !finished) await new Promise((r) => { wake = r; });
        if (chunks.length) return { value: chunks.shift(), done: false };
        if (failure) throw failure;
        return { value: undefined, done: true };
      },
      then(ok, bad) { return whole.then(ok, bad); },
      catch(bad) { return whole.catch(bad); },
    };
  }
  o.stream = (opts, onChunk) => onChunk === undefined ? streamIterator(opts) : call(streamId, [opts, onChunk]);
  return o;
})
