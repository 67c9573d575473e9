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
 * `WebAssembly` (its memories are reserved outside the heap limit; a sandbox granted `'wasm'` gets a wrapper that
 * reserves them from a budget instead, see {@link WASM_LIMITS}), `SharedArrayBuffer` and `Atomics`, and the
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
  /**
   * UTF-16 string bytes plus typed-array bytes in one result: 16 MiB holds a 1080p RGBA frame twice over, while copying
   * it out of the isolate stays a few milliseconds (a 64 MiB result cost the host loop 100-300 ms).
   */
  maxBytes: 16 * 1024 * 1024,
  /** Characters kept of an error's `message` (and of one console line). */
  maxMessageChars: 4096,
  /** Characters kept of an error's `stack`. */
  maxStackChars: 16_384,
  /** Characters kept of an error's `name`. */
  maxNameChars: 128,
  /**
   * Console (granted `console` only). Everything below is enforced inside the isolate, under the clock, before one
   * string crosses to the host: a sandbox once sent 20 000 arguments × 4 KB per call (328 MB to the executor's
   * stderr, its event loop held 5 s), and newlines in an argument forged the executor's own JSON log lines.
   * Arguments of one call kept; later ones are replaced by `...(n more arguments)`.
   */
  maxConsoleArgs: 16,
  /**
   * Bytes of one console line as the host receives it (arguments joined by spaces). Control characters, backslashes
   * and every non-ASCII character are escaped (`\n`, `\u001b`, …), so a line is ASCII (one character = one byte) and
   * one call is one line on the host.
   */
  maxConsoleLineBytes: 4096,
  /** Bytes of console output one sandbox may write over its life; then one `[console output truncated]` line, and the rest is dropped. */
  maxConsoleBytes: 64 * 1024,
  /** Console lines one sandbox may write; later lines are dropped (after one note saying so). */
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

/**
 * Bounds of WebAssembly in a sandbox granted `'wasm'` (the budget itself is the sandbox's share of `memoryLimitMb`,
 * see `wasmMemorySplit` in `policy.ts`). The bridge's `WebAssembly` reads the memory and table sections of every
 * module before V8 compiles it (from a private copy of the bytes, so they cannot change in between) and reserves:
 * - per compiled module: `codeBytesPerModuleByte` × its size (V8 keeps the wire bytes and the machine code outside
 *   the heap; measured ~1–1.5× after every function ran);
 * - per instance of a module that defines memories, and per `new WebAssembly.Memory`: each memory's declared
 *   `maximum` × 64 KiB (a maximum is required; `memory.grow` can never go past it).
 * Nothing is given back while the sandbox lives (a memory is freed only by GC); one more reservation than the
 * budget holds throws a `RangeError`. Shared and 64-bit memories are refused (a shared memory's buffer is a
 * `SharedArrayBuffer`), as are tables without a maximum (`table.grow` could allocate one 80 MB array at once).
 */
export const WASM_LIMITS = {
  /** Largest module, bytes (compiling 8 MiB takes ~50–80 ms, synchronously, inside the call). */
  maxModuleBytes: 8 * 1024 * 1024,
  /** Budget reserved per byte of a compiled module (wire bytes + code kept outside the heap). */
  codeBytesPerModuleByte: 2,
  /** Memories one sandbox may create over its life (each reserves ~10 GB of address space for V8's guard regions). */
  maxMemories: 64,
  /** Largest memory maximum, 64 KiB pages (V8's own limit for 32-bit memories). */
  maxMemoryPages: 65536,
  /** Largest table maximum, elements (a table is one array on the heap). */
  maxTableElements: 65536,
} as const;

export const BRIDGE_SOURCE = `(function () {
  'use strict';
  var g = globalThis;
  var L = ${JSON.stringify(BRIDGE_LIMITS)};
  var W_L = ${JSON.stringify(WASM_LIMITS)};

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
  var OWasm = g.WebAssembly;
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
  var charCodeAt = uncurry(StringC.prototype.charCodeAt);
  var HEX = '0123456789abcdef';
  // One console argument (already cut) with control characters, backslashes and non-ASCII escaped, so the host
  // gets one ASCII line per call that cannot forge its log lines or drive a terminal. Stops at max characters.
  function escapeLine(s, max) {
    var out = '';
    for (var i = 0; i < s.length && out.length < max; i++) {
      var c = charCodeAt(s, i);
      if (c >= 0x20 && c < 0x7f && c !== 0x5c) out += s[i];
      else if (c === 0x0a) out += '\\\\n';
      else if (c === 0x0d) out += '\\\\r';
      else if (c === 0x09) out += '\\\\t';
      else if (c === 0x5c) out += '\\\\\\\\';
      else out += '\\\\u' + HEX[(c >> 12) & 15] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15];
    }
    return out.length > max ? stringSlice(out, 0, max) : out;
  }
  if (typeof log === 'function') {
    var lines = 0;
    var consoleBytes = 0;
    var consoleDone = false;
    var line = function (level) {
      return function () {
        if (consoleDone) return;
        if (++lines > L.maxConsoleLines) {
          consoleDone = true;
          log(level, '[console output truncated: more than ' + L.maxConsoleLines + ' lines (maxConsoleLines); later lines are dropped]');
          return;
        }
        var n = arguments.length;
        var text = '';
        for (var i = 0; i < n && i < L.maxConsoleArgs && text.length < L.maxConsoleLineBytes; i++) {
          var a = arguments[i];
          if (i > 0) text += ' ';
          text += escapeLine(typeof a === 'string' ? cut(a, L.maxMessageChars) : printable(a), L.maxConsoleLineBytes - text.length);
        }
        if (n > L.maxConsoleArgs && text.length < L.maxConsoleLineBytes) text += ' ...(' + (n - L.maxConsoleArgs) + ' more arguments)';
        if (text.length > L.maxConsoleLineBytes) text = stringSlice(text, 0, L.maxConsoleLineBytes);
        if (consoleBytes + text.length > L.maxConsoleBytes) {
          consoleDone = true;
          log(level, '[console output truncated: more than ' + L.maxConsoleBytes + ' bytes (maxConsoleBytes); later lines are dropped]');
          return;
        }
        consoleBytes += text.length;
        log(level, text);
      };
    };
    g.console = freeze({ log: line('log'), info: line('info'), warn: line('warn'), error: line('error') });
  }
  // ---- WebAssembly, granted 'wasm' only (see WASM_LIMITS) ----
  var wasmBudget = g.__rmWasm;
  delete g.__rmWasm;
  if (typeof wasmBudget === 'number' && OWasm !== undefined) installWasm(OWasm, wasmBudget);
  function installWasm(W, budget) {
    var OModule = W.Module, OInstance = W.Instance, OMemory = W.Memory, OTable = W.Table;
    var CompileErrorC = W.CompileError, validateC = W.validate, PromiseC = Promise;
    var WeakMapC = WeakMap;
    var wmGet = uncurry(WeakMapC.prototype.get), wmSet = uncurry(WeakMapC.prototype.set);
    var taBuffer = uncurry(gOPD(TypedArrayProto, 'buffer').get);
    var taByteOffset = uncurry(gOPD(TypedArrayProto, 'byteOffset').get);
    var modules = new WeakMapC();
    var left = budget;
    var memoriesLeft = W_L.maxMemories;
    var MB = 1048576;
    function mb(n) { return (n / MB).toFixed(1) + ' MB'; }
    function reserve(bytes, memories, what) {
      if (memories > memoriesLeft) throw new RangeErrorC('WebAssembly: ' + what + ' would exceed the sandbox\\'s ' + W_L.maxMemories + ' memories');
      if (bytes > left) throw new RangeErrorC('WebAssembly: ' + what + ' needs ' + mb(bytes) + ' but the sandbox\\'s WebAssembly budget has ' + mb(left) + ' of ' + mb(budget) + ' left (it is part of memoryLimitMb)');
      left -= bytes;
      memoriesLeft -= memories;
    }
    // The module bytes, copied once into a buffer nobody else holds: what is parsed is what V8 compiles.
    function ownBytes(source) {
      var buffer, offset, length;
      if (isView(source)) {
        if (taTag(source) === undefined) {
          buffer = dvBuffer(source); offset = dvByteOffset(source); length = dvByteLength(source);
        } else {
          buffer = taBuffer(source); offset = taByteOffset(source); length = taByteLength(source);
        }
      } else if (isKind(ArrayBufferC.prototype, abByteLength, source)) {
        buffer = source; offset = 0; length = abByteLength(source);
      } else {
        throw new TypeErrorC('WebAssembly: the module must be an ArrayBuffer or a typed array / DataView');
      }
      if (length > W_L.maxModuleBytes) throw new RangeErrorC('WebAssembly: modules larger than ' + W_L.maxModuleBytes + ' bytes are refused in the sandbox');
      var copy = new Uint8ArrayC(length);
      taSet(copy, new Uint8ArrayC(buffer, offset, length));
      return copy;
    }
    // Reads what decides memory (the memory and table sections); everything else is V8's to validate. Every read is
    // bounded by the buffer and its section; nothing is allocated by a declared size.
    function scan(u) {
      var n = u.length, p = 0, end = n;
      function bad(why) { return new CompileErrorC('WebAssembly: ' + why + ' at byte ' + p); }
      function byte() { if (p >= end) throw bad('unexpected end'); return u[p++]; }
      function u32() {
        var value = 0, scale = 1;
        for (var i = 0; i < 5; i++) {
          var b = byte();
          if (i === 4 && b > 0x0f) throw bad('LEB128 u32 out of range');
          value += (b & 0x7f) * scale;
          if ((b & 0x80) === 0) return value;
          scale *= 128;
        }
        throw bad('LEB128 u32 out of range');
      }
      // limits: 0x00 min, 0x01 min max; shared (0x02/0x03) and 64-bit (0x04..) forms are refused.
      function limits(what, maxAllowed) {
        var flags = byte();
        if (flags > 1) throw bad(what + ' limits flag ' + flags + ' refused in the sandbox (shared and 64-bit ' + what + 's are not available)');
        var min = u32();
        if (flags === 0) throw bad('every ' + what + ' must declare a maximum in the sandbox');
        var max = u32();
        if (max < min || max > maxAllowed) throw bad(what + ' maximum ' + max + ' is out of range (at most ' + maxAllowed + ')');
        return max;
      }
      if (n < 8 || u[0] !== 0 || u[1] !== 0x61 || u[2] !== 0x73 || u[3] !== 0x6d) throw bad('not a WebAssembly module (bad magic)');
      if (u[4] !== 1 || u[5] !== 0 || u[6] !== 0 || u[7] !== 0) throw bad('unsupported WebAssembly version');
      p = 8;
      var info = create(null);
      info.memories = 0;
      info.memoryBytes = 0;
      while (p < n) {
        end = n;
        var id = byte();
        var size = u32();
        if (size > n - p) throw bad('section ' + id + ' is longer than the module');
        end = p + size;
        if (id === 5) {
          for (var count = u32(), i = 0; i < count; i++) {
            info.memories++;
            if (info.memories > W_L.maxMemories) throw bad('too many memories');
            info.memoryBytes += limits('memory', W_L.maxMemoryPages) * 65536;
          }
          if (p !== end) throw bad('memory section size mismatch');
        } else if (id === 4) {
          for (var tables = u32(), j = 0; j < tables; j++) {
            var type = byte();
            if (type !== 0x70 && type !== 0x6f) throw bad('table type ' + type + ' refused in the sandbox');
            limits('table', W_L.maxTableElements);
          }
          if (p !== end) throw bad('table section size mismatch');
        }
        p = end;
      }
      return info;
    }
    function compileOwn(u, newTarget) {
      var info = scan(u);
      reserve(u.length * W_L.codeBytesPerModuleByte, 0, 'compiling a ' + u.length + '-byte module');
      var m = construct(OModule, [u], newTarget);
      wmSet(modules, m, info);
      return m;
    }
    function instantiateOwn(m, importObject, newTarget) {
      var info = wmGet(modules, m);
      if (info === undefined) throw new TypeErrorC('WebAssembly.Instance(): argument 0 must be a WebAssembly.Module');
      if (info.memories > 0) reserve(info.memoryBytes, info.memories, 'an instance with ' + info.memories + ' memory (maximum ' + mb(info.memoryBytes) + ')');
      return construct(OInstance, importObject === undefined ? [m] : [m, importObject], newTarget);
    }
    function number(v, what) {
      var x = +v;
      if (!(x >= 0 && x <= 4294967295 && x % 1 === 0)) throw new TypeErrorC('WebAssembly: ' + what + ' must be an integer in [0, 2^32)');
      return x;
    }
    function Module(bytes) {
      if (new.target === undefined) throw new TypeErrorC("WebAssembly.Module must be invoked with 'new'");
      return compileOwn(ownBytes(bytes), new.target === Module ? OModule : new.target);
    }
    function Instance(module, importObject) {
      if (new.target === undefined) throw new TypeErrorC("WebAssembly.Instance must be invoked with 'new'");
      return instantiateOwn(module, importObject, new.target === Instance ? OInstance : new.target);
    }
    function Memory(descriptor) {
      if (new.target === undefined) throw new TypeErrorC("WebAssembly.Memory must be invoked with 'new'");
      if (descriptor === null || typeof descriptor !== 'object') throw new TypeErrorC('WebAssembly.Memory(): argument 0 must be a memory descriptor');
      var initial = descriptor.initial, maximum = descriptor.maximum, shared = descriptor.shared;
      if (shared) throw new TypeErrorC('WebAssembly.Memory(): shared memories are not available in the sandbox');
      if (maximum === undefined) throw new RangeErrorC('WebAssembly.Memory(): a maximum is required in the sandbox (it is reserved from the WebAssembly budget)');
      var d = create(null);
      d.initial = number(initial, 'initial');
      d.maximum = number(maximum, 'maximum');
      if (d.maximum > W_L.maxMemoryPages || d.initial > d.maximum) throw new RangeErrorC('WebAssembly.Memory(): maximum must be ≥ initial and ≤ ' + W_L.maxMemoryPages + ' pages');
      reserve(d.maximum * 65536, 1, 'a memory of maximum ' + mb(d.maximum * 65536));
      return construct(OMemory, [d], new.target === Memory ? OMemory : new.target);
    }
    function Table(descriptor) {
      if (new.target === undefined) throw new TypeErrorC("WebAssembly.Table must be invoked with 'new'");
      if (descriptor === null || typeof descriptor !== 'object') throw new TypeErrorC('WebAssembly.Table(): argument 0 must be a table descriptor');
      var element = descriptor.element, initial = descriptor.initial, maximum = descriptor.maximum;
      if (maximum === undefined) throw new RangeErrorC('WebAssembly.Table(): a maximum is required in the sandbox');
      var d = create(null);
      d.element = StringC(element);
      d.initial = number(initial, 'initial');
      d.maximum = number(maximum, 'maximum');
      if (d.maximum > W_L.maxTableElements || d.initial > d.maximum) throw new RangeErrorC('WebAssembly.Table(): maximum must be ≥ initial and ≤ ' + W_L.maxTableElements);
      var args = arguments.length > 1 ? [d, arguments[1]] : [d];
      return construct(OTable, args, new.target === Table ? OTable : new.target);
    }
    // The promise-returning forms compile synchronously, inside the call, under the sandbox clock (V8's background
    // compile never reports back inside isolated-vm, and would run off the clock).
    function later(run) {
      return new PromiseC(function (resolve) { resolve(run()); });
    }
    function isModule(v) { return v !== null && typeof v === 'object' && wmGet(modules, v) !== undefined; }
    var api = {
      compile: function compile(bytes) { return later(function () { return compileOwn(ownBytes(bytes), OModule); }); },
      instantiate: function instantiate(source, importObject) {
        return later(function () {
          if (isModule(source)) return instantiateOwn(source, importObject, OInstance);
          var module = compileOwn(ownBytes(source), OModule);
          return { module: module, instance: instantiateOwn(module, importObject, OInstance) };
        });
      },
      validate: function validate(bytes) {
        var u = ownBytes(bytes);
        try { scan(u); } catch (e) { return false; }
        return validateC(u);
      },
    };
    var ns = create(O.prototype);
    function expose(name, value) { defineProperty(ns, name, { value: value, writable: true, enumerable: false, configurable: true }); }
    function replace(name, wrapper, original) {
      defineProperty(wrapper, 'prototype', { value: original.prototype, writable: false, enumerable: false, configurable: false });
      defineProperty(original.prototype, 'constructor', { value: wrapper, writable: false, enumerable: false, configurable: false });
      expose(name, wrapper);
    }
    expose('compile', api.compile);
    expose('instantiate', api.instantiate);
    expose('validate', api.validate);
    replace('Module', Module, OModule);
    ['exports', 'imports', 'customSections'].forEach(function (k) {
      defineProperty(Module, k, { value: OModule[k], writable: true, enumerable: false, configurable: true });
    });
    replace('Instance', Instance, OInstance);
    replace('Memory', Memory, OMemory);
    replace('Table', Table, OTable);
    ['Global', 'Tag', 'Exception', 'CompileError', 'LinkError', 'RuntimeError'].forEach(function (k) {
      if (W[k] !== undefined) expose(k, W[k]);
    });
    defineProperty(ns, Symbol.toStringTag, { value: 'WebAssembly', configurable: true });
    defineProperty(g, 'WebAssembly', { value: ns, writable: true, enumerable: false, configurable: true });
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
