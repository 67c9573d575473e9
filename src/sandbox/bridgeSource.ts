/**
 * The bridge installed into every sandbox context before user code runs. It is plain JavaScript source (not a
 * compiled function) so that no build helper can leak into the isolate. The host calls its functions through
 * isolated-vm references taken at install time; the bridge global is then deleted, so user code cannot reach it.
 *
 * The one rule the bridge exists for: **no user code may run outside the sandbox clock.** isolated-vm copies a
 * call's result (and a thrown value) out of the isolate after the call's `timeout` stopped counting, and that copy
 * reads properties: a getter, a Proxy trap or an error's `stack` (`Error.prepareStackTrace`) would then run without
 * a limit, spinning the isolate's thread (async calls) or the host's event loop (sync calls) for good. So every
 * bridge function, while the call is still under its time limit:
 * - catches every throw and returns it as data `{ name, message, stack }` (strings read inside try/catch and cut
 *   to a bounded length), never as the thrown object;
 * - converts every result into a fresh tree that cannot run code when copied: null-prototype objects and dense
 *   arrays holding own data properties only, fresh typed-array copies, fresh Dates, primitives; Map → plain object,
 *   Set → array (as the wire codec carries them). Depth, entry count and bytes are bounded ({@link BRIDGE_LIMITS}).
 * It uses only intrinsics captured at install time (through an uncurried `call`), because user code may replace
 * any built-in method or add setters to `Object.prototype` / `Array.prototype` before a result is converted.
 *
 * Install also takes away what escapes the isolate's memory limit (measured with isolated-vm 5 on Node 20):
 * `WebAssembly` (its memories are reserved outside the heap limit), `SharedArrayBuffer` and `Atomics`, and the
 * resizable form of `ArrayBuffer` (`new ArrayBuffer(n, { maxByteLength })` allocates outside the limit: 8 × 128 MB
 * in a 32 MB isolate). `ArrayBuffer` is replaced by a constructor that ignores the options argument.
 *
 * Shipped user code is an esbuild IIFE that assigns its exports to the global `__rmModule`.
 *
 * @internal
 */

/** Global the packaged module assigns its exports to. */
export const MODULE_GLOBAL = '__rmModule';

/** Global holding the bridge functions until the host has taken its references (then it is deleted). */
export const BRIDGE_GLOBAL = '__rm';

/**
 * Bounds of one value leaving the sandbox (a result, an iterator batch). Each stops a result that would make the
 * host allocate or walk without bound: a cyclic or very deep structure (`maxDepth`), a DAG that fans out
 * exponentially or a huge array (`maxEntries`), big strings and typed arrays (`maxBytes`). Over a bound the call
 * fails with a `RangeError` from the sandbox (`NODE_FAILED`).
 */
export const BRIDGE_LIMITS = {
  /** Nesting depth of objects/arrays in one result. */
  maxDepth: 64,
  /** Objects, arrays and properties/elements in one result. */
  maxEntries: 1_000_000,
  /** UTF-16 string bytes plus typed-array bytes in one result. */
  maxBytes: 64 * 1024 * 1024,
  /** Characters kept of an error's `message` (and of one console line). */
  maxMessageChars: 4096,
  /** Characters kept of an error's `stack`. */
  maxStackChars: 16_384,
  /** Characters kept of an error's `name`. */
  maxNameChars: 128,
  /** Console lines one sandbox may write (granted `console` only); later lines are dropped. */
  maxConsoleLines: 1000,
  /**
   * Longest array (or array-like) the bulk built-ins listed in the bridge (`fill`, `sort`, `Array.from`, …) may
   * work on. V8 runs them in C++ without interrupt checks and allocates their backing store in one piece, outside
   * the heap checks: measured with isolated-vm 5 in a 32 MB isolate, `new Array(2 ** 24).fill(0)` succeeded (128 MB),
   * `Array.from({ length: 2 ** 26 })` ran 13 s past a 300 ms timeout and a dispose (1.1 GB RSS), and
   * `new Array(60 * 2 ** 20).fill()` aborted the whole process (fatal OOM; isolated-vm issues #107, #186).
   */
  maxBulkArrayLength: 2 ** 22,
} as const;

export const BRIDGE_SOURCE = `(function () {
  'use strict';
  var g = globalThis;
  var L = ${JSON.stringify(BRIDGE_LIMITS)};

  // ---- intrinsics, captured before any user code runs ----
  var FP = Function.prototype;
  var uncurry = FP.bind.bind(FP.call);
  var R = Reflect, O = Object;
  var apply = R.apply, construct = R.construct, defineProperty = R.defineProperty, ownKeys = R.ownKeys;
  var getPrototypeOf = R.getPrototypeOf;
  var gOPD = O.getOwnPropertyDescriptor, create = O.create, freeze = O.freeze;
  var isArray = Array.isArray;
  var TypeErrorC = TypeError, RangeErrorC = RangeError, ErrorC = Error, StringC = String, DateC = Date;
  var errorProto = Error.prototype;
  var isPrototypeOf = uncurry(O.prototype.isPrototypeOf);
  var stringSlice = uncurry(StringC.prototype.slice);
  var dateGetTime = uncurry(DateC.prototype.getTime);
  var ArrayBufferC = ArrayBuffer, Uint8ArrayC = Uint8Array, DataViewC = DataView;
  var isView = ArrayBufferC.isView;
  var abByteLength = uncurry(gOPD(ArrayBufferC.prototype, 'byteLength').get);
  var TypedArrayProto = getPrototypeOf(Uint8ArrayC.prototype);
  var taTag = uncurry(gOPD(TypedArrayProto, Symbol.toStringTag).get);
  var taLength = uncurry(gOPD(TypedArrayProto, 'length').get);
  var taByteLength = uncurry(gOPD(TypedArrayProto, 'byteLength').get);
  var taSet = uncurry(TypedArrayProto.set);
  var dvBuffer = uncurry(gOPD(DataViewC.prototype, 'buffer').get);
  var dvByteOffset = uncurry(gOPD(DataViewC.prototype, 'byteOffset').get);
  var dvByteLength = uncurry(gOPD(DataViewC.prototype, 'byteLength').get);
  var typed = create(null);
  ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
    'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'].forEach(function (n) { typed[n] = g[n]; });
  var MapC = Map, SetC = Set;
  var mapGet = uncurry(MapC.prototype.get), mapSet = uncurry(MapC.prototype.set), mapDelete = uncurry(MapC.prototype['delete']);
  var mapForEach = uncurry(MapC.prototype.forEach), mapClear = uncurry(MapC.prototype.clear);
  var mapSize = uncurry(gOPD(MapC.prototype, 'size').get);
  var setHas = uncurry(SetC.prototype.has), setForEach = uncurry(SetC.prototype.forEach);
  var setSize = uncurry(gOPD(SetC.prototype, 'size').get);
  var indirectEval = g.eval;
  var jsonStringify = JSON.stringify;

  // ---- what escapes the memory limit is taken away before user code runs ----
  delete g.WebAssembly;
  // V8 gives every context a console whose output goes nowhere; one exists only when granted (below).
  delete g.console;
  delete g.SharedArrayBuffer;
  delete g.Atomics;
  delete ArrayBufferC.prototype.resize;
  var SafeArrayBuffer = function ArrayBuffer(length) {
    if (new.target === undefined) throw new TypeErrorC("Constructor ArrayBuffer requires 'new'");
    // The options argument ({ maxByteLength }) is dropped: resizable buffers are allocated outside the limit.
    return construct(ArrayBufferC, [length], new.target === SafeArrayBuffer ? ArrayBufferC : new.target);
  };
  defineProperty(SafeArrayBuffer, 'prototype', { value: ArrayBufferC.prototype });
  defineProperty(SafeArrayBuffer, 'isView', { value: isView, writable: true, configurable: true });
  defineProperty(SafeArrayBuffer, Symbol.species, { get: function () { return this; }, configurable: true });
  defineProperty(ArrayBufferC.prototype, 'constructor', { value: SafeArrayBuffer, writable: false, configurable: false });
  defineProperty(g, 'ArrayBuffer', { value: SafeArrayBuffer, writable: true, configurable: true });

  // Bulk array built-ins refuse lengths over the bound (see BRIDGE_LIMITS.maxBulkArrayLength). The length is read
  // once here (a getter runs on the clock); an array-like whose length getter lies afterwards is the residual risk.
  function tooLong(n) { return typeof n === 'number' ? n > L.maxBulkArrayLength : typeof n === 'bigint' || (n !== undefined && n !== null && +n > L.maxBulkArrayLength); }
  function guardLength(proto, name, lengthOf) {
    var original = proto[name];
    if (typeof original !== 'function') return;
    var guardedFn = {
      [name]: function () {
        if (tooLong(lengthOf(this, arguments))) throw new RangeErrorC(name + ': arrays longer than ' + L.maxBulkArrayLength + ' elements are refused in the sandbox');
        return apply(original, this, arguments);
      },
    }[name];
    defineProperty(proto, name, { value: guardedFn, writable: true, enumerable: false, configurable: true });
  }
  function ownLength(self) { return self === null || self === undefined ? 0 : self.length; }
  function firstArgLength(self, args) { var a = args[0]; return a === null || a === undefined ? 0 : a.length; }
  ['fill', 'sort', 'reverse', 'copyWithin', 'join', 'indexOf', 'lastIndexOf', 'includes', 'flat', 'toSorted', 'toReversed', 'toSpliced', 'with', 'splice', 'slice', 'concat']
    .forEach(function (name) { guardLength(Array.prototype, name, ownLength); });
  guardLength(Array, 'from', firstArgLength);
  guardLength(getPrototypeOf(Uint8ArrayC), 'from', firstArgLength);

  // ---- inert copies ----
  function cut(s, n) { return s.length > n ? stringSlice(s, 0, n) + '…' : s; }
  function readString(read, fallback, n) {
    try {
      var s = read();
      return typeof s === 'string' ? cut(s, n) : fallback;
    } catch (e) {
      return fallback;
    }
  }
  // A thrown value (or an Error inside a result) as data. Its getters and Error.prepareStackTrace run here, under
  // the clock; a throw from them only loses that field.
  function errorData(e) {
    var d = create(null);
    if (e === null || (typeof e !== 'object' && typeof e !== 'function')) {
      d.name = 'Error';
      d.message = typeof e === 'symbol' ? 'a symbol was thrown' : cut(StringC(e), L.maxMessageChars);
      d.stack = '';
      return d;
    }
    d.name = readString(function () { return e.name; }, 'Error', L.maxNameChars);
    d.message = readString(function () { return e.message; }, '', L.maxMessageChars);
    d.stack = readString(function () { return e.stack; }, '', L.maxStackChars);
    return d;
  }
  function put(target, key, value) {
    var desc = create(null);
    desc.value = value;
    desc.writable = true;
    desc.enumerable = true;
    desc.configurable = true;
    defineProperty(target, key, desc);
  }
  function charge(budget, bytes) {
    budget.entries--;
    budget.bytes -= bytes;
    if (budget.entries < 0) throw new RangeErrorC('result has more than ' + L.maxEntries + ' entries');
    if (budget.bytes < 0) throw new RangeErrorC('result is larger than ' + L.maxBytes + ' bytes');
  }
  // Brand check: the prototype chain first (cheap; a throw per plain object would cost a stack capture each), then
  // the internal slot through the captured getter (a fake with that prototype is then a plain object).
  function isKind(proto, get, v) {
    if (!isPrototypeOf(proto, v)) return false;
    try { get(v); return true; } catch (e) { return false; }
  }
  function copyView(v, budget) {
    var tag = taTag(v);
    if (tag === undefined) {
      var n = dvByteLength(v);
      charge(budget, n);
      var buf = new ArrayBufferC(n);
      taSet(new Uint8ArrayC(buf), new Uint8ArrayC(dvBuffer(v), dvByteOffset(v), n));
      return new DataViewC(buf);
    }
    charge(budget, taByteLength(v));
    var out = new typed[tag](taLength(v));
    taSet(out, v);
    return out;
  }
  function toData(v, depth, budget) {
    var t = typeof v;
    if (v === null || t === 'undefined' || t === 'boolean' || t === 'number' || t === 'bigint') return v;
    if (t === 'string') {
      charge(budget, v.length * 2);
      return v;
    }
    if (t !== 'object') throw new TypeErrorC('a ' + t + ' cannot leave the sandbox');
    if (depth >= L.maxDepth) throw new RangeErrorC('result is nested deeper than ' + L.maxDepth + ' levels (a cycle?)');
    if (isView(v)) return copyView(v, budget);
    if (isKind(ArrayBufferC.prototype, abByteLength, v)) {
      var bytes = new Uint8ArrayC(v);
      charge(budget, abByteLength(v));
      var copy = new Uint8ArrayC(abByteLength(v));
      taSet(copy, bytes);
      return copy.buffer;
    }
    charge(budget, 0);
    if (isKind(DateC.prototype, dateGetTime, v)) return new DateC(dateGetTime(v));
    var out, i;
    if (isArray(v)) {
      var n = v.length;
      if (typeof n !== 'number' || !(n <= L.maxEntries)) throw new RangeErrorC('result has more than ' + L.maxEntries + ' entries');
      out = [];
      for (i = 0; i < n; i++) put(out, i, toData(v[i], depth + 1, budget));
      return out;
    }
    if (isKind(MapC.prototype, mapSize, v)) {
      out = create(null);
      mapForEach(v, function (value, key) {
        if (typeof key !== 'string' && typeof key !== 'number') throw new TypeErrorC('a Map leaving the sandbox may only have string or number keys');
        charge(budget, 0);
        out[key] = toData(value, depth + 1, budget);
      });
      return out;
    }
    if (isKind(SetC.prototype, setSize, v)) {
      out = [];
      i = 0;
      setForEach(v, function (value) { put(out, i++, toData(value, depth + 1, budget)); });
      return out;
    }
    if (isPrototypeOf(errorProto, v)) return errorData(v);
    // Any other object: its own enumerable string-keyed properties (getters and Proxy traps run here, on the clock).
    out = create(null);
    var keys = ownKeys(v);
    for (i = 0; i < keys.length; i++) {
      var key = keys[i];
      if (typeof key !== 'string') continue;
      var desc = gOPD(v, key);
      if (desc === undefined || !desc.enumerable) continue;
      charge(budget, key.length * 2);
      out[key] = toData(v[key], depth + 1, budget);
    }
    return out;
  }
  function inert(v) {
    var budget = create(null);
    budget.entries = L.maxEntries;
    budget.bytes = L.maxBytes;
    return toData(v, 0, budget);
  }
  // Every bridge function answers with one of these envelopes (null prototype: no inherited 'then' can hijack the
  // promise that carries it, no inherited getter can run while it is copied out).
  function ok(value) { var r = create(null); r.ok = true; r.value = value; return r; }
  function failed(e) { var r = create(null); r.ok = false; r.error = errorData(e); return r; }
  function guarded(run) {
    return function () {
      try {
        return ok(apply(run, undefined, arguments));
      } catch (e) {
        return failed(e);
      }
    };
  }
  // \`convert\` runs after the last await: whatever the awaited promise resolved with (user code may replace
  // Promise.prototype.then or a promise's constructor, and so choose it) is made inert before it is returned.
  function guardedAsync(run, convert) {
    return async function () {
      try {
        return ok(convert(await apply(run, undefined, arguments)));
      } catch (e) {
        return failed(e);
      }
    };
  }
  function nothing() { return undefined; }
  function valueOf(raw) { var r = create(null); r.value = inert(raw); return r; }
  function batchOf(raw) { var r = create(null); r.items = inert(raw.items); r.done = raw.done === true; return r; }

  // ---- the objects the host drives ----
  // Names that live on every object: a peer may not reach them as remote members (they stay local, as in Cap'n Web).
  var forbidden = new SetC(O.getOwnPropertyNames(O.prototype).concat(['constructor', 'prototype', 'then']));
  var iterators = new MapC();
  var nextIterator = 1;
  var instance;
  var hasInstance = false;
  function member(name) {
    if (typeof name !== 'string' || setHas(forbidden, name)) throw new TypeErrorC("'" + StringC(name) + "' is not a remote member");
    if (!hasInstance) throw new TypeErrorC('no object in this sandbox');
    return name;
  }
  function isIterator(v) {
    return v !== null && typeof v === 'object' && typeof v.next === 'function' && !isArray(v) &&
      (typeof v[Symbol.asyncIterator] === 'function' || typeof v[Symbol.iterator] === 'function');
  }
  function wrap(v) {
    var r = create(null);
    if (isIterator(v)) {
      var id = nextIterator++;
      mapSet(iterators, id, v);
      r.iterator = id;
    } else {
      r.value = inert(v);
    }
    return r;
  }
  var loaded;
  function moduleExports() {
    var mod = loaded;
    if (mod === null || (typeof mod !== 'object' && typeof mod !== 'function')) throw new TypeErrorC('the shipped module exports nothing');
    return mod;
  }
  function exported(name) {
    var mod = moduleExports();
    var value = name ? mod[name] : mod.default;
    if (value === undefined && !name) value = mod;
    return value;
  }
  // A node module exports process(item) (and maybe flush()); a shipped function is the default export.
  function processFunction() {
    var mod = loaded;
    if (mod === null || mod === undefined) return undefined;
    return typeof mod.process === 'function' ? mod.process : mod.default;
  }
  function isThenable(r) {
    return r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function';
  }
  // A console argument as a bounded string, made here (toJSON, toString and getters run on the clock).
  function printable(a) {
    return readString(function () {
      var json = a !== null && typeof a === 'object' ? jsonStringify(a) : undefined;
      return typeof json === 'string' ? json : StringC(a);
    }, '[unprintable]', L.maxMessageChars);
  }
  var log = g.__rmLog;
  delete g.__rmLog;
  if (typeof log === 'function') {
    var lines = 0;
    var line = function (level) {
      return function () {
        if (++lines > L.maxConsoleLines) return;
        var parts = [];
        for (var i = 0; i < arguments.length; i++) {
          var a = arguments[i];
          put(parts, i, typeof a === 'string' ? cut(a, L.maxMessageChars) : printable(a));
        }
        if (lines === L.maxConsoleLines) put(parts, parts.length, '(console limit of ' + L.maxConsoleLines + ' lines reached; later lines are dropped)');
        log(level, parts);
      };
    };
    g.console = freeze({ log: line('log'), info: line('info'), warn: line('warn'), error: line('error') });
  }
  g.${BRIDGE_GLOBAL} = freeze({
    // The shipped script runs by indirect eval (a global script), inside try/catch: a throw at top level is data too.
    // Strict code (an esbuild bundle starts with "use strict") keeps its vars in the eval's own scope, so the module
    // is taken from the eval's completion value (a trailing expression) and kept here rather than read as a global.
    load: guarded(function (code, filename) {
      var exportsOf = indirectEval(code + '\\n;(typeof ${MODULE_GLOBAL} === "undefined" ? undefined : ${MODULE_GLOBAL})\\n//# sourceURL=' + filename);
      loaded = exportsOf === undefined ? g.${MODULE_GLOBAL} : exportsOf;
    }),
    create: guarded(function (exportName, args, state) {
      var C = exported(exportName);
      if (typeof C !== 'function') throw new TypeErrorC("export '" + (exportName || 'default') + "' is not a class");
      if (state !== undefined && state !== null) {
        // An instance was shipped: restore its own enumerable state without running the constructor.
        instance = O.assign(create(C.prototype), state);
      } else {
        instance = construct(C, args);
      }
      hasInstance = true;
    }),
    call: guardedAsync(async function (name, args) {
      var f = instance[member(name)];
      if (typeof f !== 'function') throw new TypeErrorC("'" + name + "' is not a method");
      return await apply(f, instance, args);
    }, wrap),
    get: guardedAsync(async function (name) {
      var v = instance[member(name)];
      if (typeof v === 'function') throw new TypeErrorC("'" + name + "' is a method: call it");
      return await v;
    }, valueOf),
    next: guardedAsync(async function (id, n) {
      var it = mapGet(iterators, id);
      if (it === undefined) throw new ErrorC('iterator ' + id + ' not found');
      var items = [];
      var r = create(null);
      r.items = items;
      r.done = false;
      while (items.length < n) {
        var step = await it.next();
        if (step === null || typeof step !== 'object') throw new TypeErrorC('iterator result ' + StringC(step) + ' is not an object');
        if (step.done) {
          mapDelete(iterators, id);
          r.done = true;
          return r;
        }
        put(items, items.length, step.value);
      }
      return r;
    }, batchOf),
    return: guardedAsync(async function (id) {
      var it = mapGet(iterators, id);
      mapDelete(iterators, id);
      if (it !== undefined && typeof it.return === 'function') await it.return();
    }, nothing),
    closeIterators: guardedAsync(async function () {
      var all = [];
      mapForEach(iterators, function (it) { put(all, all.length, it); });
      mapClear(iterators);
      for (var i = 0; i < all.length; i++) {
        try { if (typeof all[i].return === 'function') await all[i].return(); } catch (e) { /* disposal goes on */ }
      }
    }, nothing),
    process: guarded(function (item) {
      var r = processFunction()(item);
      if (isThenable(r)) throw new TypeErrorC('process() must be synchronous (it returned a promise)');
      return inert(r);
    }),
    flush: guarded(function () {
      var mod = loaded;
      var r = mod !== null && mod !== undefined && typeof mod.flush === 'function' ? mod.flush() : undefined;
      if (isThenable(r)) throw new TypeErrorC('flush() must be synchronous (it returned a promise)');
      return inert(r);
    }),
    hasProcess: guarded(function () {
      return typeof processFunction() === 'function';
    }),
  });
})();`;
