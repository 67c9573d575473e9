/** Small shared helpers for benchmarks: machine description, statistics, and writing a section of RESULTS.md. */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

/** "2 × Intel(R) Xeon(R) ..., Node v20.20.2, linux x64". */
export function machine(): string {
  const list = cpus();
  return `${list.length} × ${list[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform} ${process.arch}`;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0–100) of a list, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in bench/RESULTS.md (appending the
 * markers under the `## name` heading when absent), so each benchmark owns its own section.
 */
export function writeResultsSection(name: string, body: string): void {
  const file = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
  const text = readFileSync(file, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  let next: string;
  if (text.includes(start) && text.includes(end)) {
    next = text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length);
  } else {
    const heading = new RegExp(`^## ${name}\\b.*$`, 'm');
    const match = heading.exec(text);
    next = match ? text.slice(0, match.index + match[0].length) + `\n\n${block}\n` + text.slice(match.index + match[0].length) : `${text.trimEnd()}\n\n## ${name}\n\n${block}\n`;
  }
  writeFileSync(file, next);
}
