/**
 * Code packaging: turns user code into one self-contained script for a sandbox, with esbuild. It is the
 * equivalent of the predecessor's AST dependency packaging: the module and its local imports are bundled; a bare
 * npm import is refused with a clear error unless it is in `allowModules` (then it is bundled too); Node built-ins
 * are always refused (the sandbox has no fs, network or process).
 *
 * The result is an IIFE assigning the module's exports to `globalThis.__rmModule`.
 *
 * @module
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, buildSync, type BuildOptions, type Plugin } from 'esbuild';
import { RemoteMediaError } from '../errors.js';
import { MODULE_GLOBAL } from './bridgeSource.js';

/** Code ready to ship to a sandbox. */
export interface PackagedCode {
  /** The bundled script. */
  readonly code: string;
  /** Export holding the class or functions (`''` = the default export). */
  readonly exportName: string;
  /** Bare packages bundled in (each one allowed by `allowModules`). */
  readonly modules: readonly string[];
}

/** A function or class that can be shipped by its source text. */
export type ShippableFunction = ((...args: never[]) => unknown) | (abstract new (...args: never[]) => unknown);

/** Options of {@link packageModule}. */
export interface PackageOptions {
  /** Bare package names that may be bundled. Default: none (every bare import is refused). */
  readonly allowModules?: readonly string[];
}

const BUILTINS = new Set(builtinModules);

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function guard(allow: readonly string[], used: Set<string>): Plugin {
  return {
    name: 'remotemedia-import-guard',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(args.path)) return undefined;
        const name = packageName(args.path);
        if (args.path.startsWith('node:') || BUILTINS.has(name)) {
          return { errors: [{ text: `import '${args.path}' is a Node built-in; shipped code runs in a sandbox without fs, network or process` }] };
        }
        if (!allow.includes(name)) {
          return { errors: [{ text: `bare import '${args.path}' is refused: shipped code may only import local files, or packages the executor allow-lists (allowModules)` }] };
        }
        used.add(name);
        return undefined;
      });
    },
  };
}

const COMMON: BuildOptions = {
  bundle: true,
  write: false,
  format: 'iife',
  globalName: MODULE_GLOBAL,
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'es2022',
  logLevel: 'silent',
  // Names survive (error messages, class names); esbuild's helper is defined inside the bundle.
  keepNames: true,
};

function failure(what: string, e: unknown): RemoteMediaError {
  const errors = (e as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors;
  const detail = errors?.map((x) => (x.location ? `${x.location.file}:${x.location.line}: ${x.text}` : x.text)).join('; ') ?? String(e);
  return new RemoteMediaError('INVALID_PARAMS', `cannot package ${what}: ${detail}`, { node: 'sandbox', cause: e });
}

/** Bundles a module file (path or `file:` URL) and its local imports; `exportName` picks the export to use. */
export async function packageModule(entry: string | URL, exportName = '', options: PackageOptions = {}): Promise<PackagedCode> {
  const path = entry instanceof URL || entry.startsWith('file:') ? fileURLToPath(entry) : entry;
  const used = new Set<string>();
  try {
    const result = await build({ ...COMMON, entryPoints: [path], plugins: [guard(options.allowModules ?? [], used)] });
    return { code: result.outputFiles![0]!.text, exportName, modules: [...used] };
  } catch (e) {
    throw failure(`'${path}'`, e);
  }
}

/**
 * Packages a self-contained function or class from its source text (`value.toString()`). It may not refer to
 * anything outside itself; use {@link packageModule} for code with imports. Synchronous.
 */
export function packageSource(value: ShippableFunction, what = value.name || 'function'): PackagedCode {
  const source = Function.prototype.toString.call(value);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) throw new RemoteMediaError('INVALID_PARAMS', `cannot package ${what}: it is native or bound`, { node: 'sandbox' });
  // Build tools wrap names with `__name(...)` (esbuild keepNames); give the text its own definition of it.
  const contents = `var __name = (target, value) => Object.defineProperty(target, 'name', { value, configurable: true });
export default (${source});`;
  try {
    const result = buildSync({ ...COMMON, keepNames: false, stdin: { contents, loader: 'js', sourcefile: `${what}.js` } });
    return { code: result.outputFiles![0]!.text, exportName: '', modules: [] };
  } catch (e) {
    throw failure(what, e);
  }
}
