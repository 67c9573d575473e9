/** Imports modules that register extra node types (`--module`), relative paths from the working directory. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function importModules(modules: readonly string[]): Promise<void> {
  for (const module of modules) await import(module.startsWith('.') || module.startsWith('/') ? pathToFileURL(resolve(module)).href : module);
}
