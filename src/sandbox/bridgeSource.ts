/**
 * The bridge installed into every sandbox context before user code runs. It is plain JavaScript source (not a
 * compiled function) so that no build helper can leak into the isolate. The host calls its functions through
 * isolated-vm references; every value crosses by structured copy, never by reference.
 *
 * Shipped user code is an esbuild IIFE that assigns its exports to the global `__rmModule`.
 *
 * @internal
 */

/** Global the packaged module assigns its exports to. */
export const MODULE_GLOBAL = '__rmModule';

/** Global holding the bridge functions. */
export const BRIDGE_GLOBAL = '__rm';

export const BRIDGE_SOURCE = `(function () {
  'use strict';
  var g = globalThis;
  // Names that live on every object: a peer may not reach them as remote members (they stay local, as in Cap'n Web).
  var forbidden = new Set(Object.getOwnPropertyNames(Object.prototype).concat(['constructor', 'prototype', 'then']));
  var iterators = new Map();
  var nextIterator = 1;
  var instance;
  var hasInstance = false;
  function member(name) {
    if (typeof name !== 'string' || forbidden.has(name)) throw new TypeError("'" + String(name) + "' is not a remote member");
    if (!hasInstance) throw new TypeError('no object in this sandbox');
    return name;
  }
  function isIterator(v) {
    return v !== null && typeof v === 'object' && typeof v.next === 'function' && !Array.isArray(v) &&
      (typeof v[Symbol.asyncIterator] === 'function' || typeof v[Symbol.iterator] === 'function');
  }
  function wrap(v) {
    if (isIterator(v)) {
      var id = nextIterator++;
      iterators.set(id, v);
      return { iterator: id };
    }
    return { value: v };
  }
  function exported(name) {
    var mod = g.${MODULE_GLOBAL};
    if (mod === null || (typeof mod !== 'object' && typeof mod !== 'function')) throw new TypeError('the shipped module exports nothing');
    var value = name ? mod[name] : mod.default;
    if (value === undefined && !name) value = mod;
    return value;
  }
  // A node module exports process(item) (and maybe flush()); a shipped function is the default export.
  function processFunction() {
    var mod = g.${MODULE_GLOBAL};
    if (mod === null || mod === undefined) return undefined;
    return typeof mod.process === 'function' ? mod.process : mod.default;
  }
  g.${BRIDGE_GLOBAL} = Object.freeze({
    create: function (exportName, args, state) {
      var C = exported(exportName);
      if (typeof C !== 'function') throw new TypeError("export '" + (exportName || 'default') + "' is not a class");
      if (state !== undefined && state !== null) {
        // An instance was shipped: restore its own enumerable state without running the constructor.
        instance = Object.assign(Object.create(C.prototype), state);
      } else {
        instance = Reflect.construct(C, args);
      }
      hasInstance = true;
    },
    call: async function (name, args) {
      var f = instance[member(name)];
      if (typeof f !== 'function') throw new TypeError("'" + name + "' is not a method");
      return wrap(await Reflect.apply(f, instance, args));
    },
    get: async function (name) {
      var v = instance[member(name)];
      if (typeof v === 'function') throw new TypeError("'" + name + "' is a method: call it");
      return { value: await v };
    },
    next: async function (id, n) {
      var it = iterators.get(id);
      if (it === undefined) throw new Error('iterator ' + id + ' not found');
      var items = [];
      while (items.length < n) {
        var r = await it.next();
        if (r.done) {
          iterators.delete(id);
          return { items: items, done: true };
        }
        items.push(r.value);
      }
      return { items: items, done: false };
    },
    return: async function (id) {
      var it = iterators.get(id);
      iterators.delete(id);
      if (it !== undefined && typeof it.return === 'function') await it.return();
    },
    closeIterators: async function () {
      var all = Array.from(iterators.values());
      iterators.clear();
      for (var i = 0; i < all.length; i++) {
        try { if (typeof all[i].return === 'function') await all[i].return(); } catch (e) { /* disposal goes on */ }
      }
    },
    process: function (item) {
      var r = processFunction()(item);
      if (r !== null && typeof r === 'object' && typeof r.then === 'function') throw new TypeError('process() must be synchronous (it returned a promise)');
      return r;
    },
    flush: function () {
      var mod = g.${MODULE_GLOBAL};
      return typeof mod.flush === 'function' ? mod.flush() : undefined;
    },
    hasProcess: function () {
      return typeof processFunction() === 'function';
    },
  });
})();`;
