/**
 * Classes the executor can instantiate by name for `client.createProxy('Name', ...args)`. They run in the executor's
 * own realm (they are trusted code the operator installed, like nodes from `modules`), not in a sandbox.
 *
 * @module
 */
import { InvalidParamsError } from '../src/errors.js';

/** A class registered for proxies: any constructor. */
export type RegisteredClass = new (...args: never[]) => object;

const classes = new Map<string, RegisteredClass>();

const NAME_PATTERN = /^[A-Za-z_$][\w$.-]{0,127}$/;

/**
 * Registers `Class` under `name` so that clients can create proxies of it. Call it from a module passed to the
 * executor with `modules` / `--module`. Throws `InvalidParamsError` for a bad or duplicate name.
 * @example
 * ```ts
 * registerClass('Counter', class Counter { constructor(public n = 0) {} increment() { return ++this.n; } });
 * ```
 */
export function registerClass(name: string, Class: RegisteredClass): void {
  if (!NAME_PATTERN.test(name)) throw new InvalidParamsError('registerClass', 'name', `'${name}' is not a class name (letters, digits, _ $ . -; at most 128)`);
  if (typeof Class !== 'function') throw new InvalidParamsError('registerClass', 'Class', `expected a class, got ${typeof Class}`);
  if (classes.has(name) && classes.get(name) !== Class) throw new InvalidParamsError('registerClass', 'name', `class '${name}' is already registered`);
  classes.set(name, Class);
}

/** The class registered under `name`, if any. */
export function registeredClass(name: string): RegisteredClass | undefined {
  return classes.get(name);
}

/** Names of the registered classes, sorted. */
export function registeredClassNames(): string[] {
  return [...classes.keys()].sort();
}
