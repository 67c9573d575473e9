/**
 * `pocketsphinx` speech-to-text engine: Debian `pocketsphinx` (0.8) + `pocketsphinx-en-us`, kept warm as ONE
 * long-lived `pocketsphinx_batch` process per grammar. Its control file and its hypothesis file are two named pipes
 * (FIFOs) in a private temp directory (Node's stdio pipes are sockets, which it cannot `fopen` as /dev/stdin): for
 * each utterance we write the audio to a raw file there and the file's id as one control line; it writes
 * `<text> (<id> <score>)` to the hypothesis pipe (flushed per utterance), so each result is matched by id.
 * Start-up (model load) is paid once; an utterance then costs its decoding time only.
 *
 * Modes: a JSGF grammar (`grammar` text, or `phrases` turned into one) or a keyword list (`keywords`) constrain
 * recognition — the honest offline default, since the general language model garbles synthetic speech; without
 * either the general `en-us.lm.bin` is used.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { InvalidParamsError } from '../errors.js';
import { toInt16 } from '../media/audioFrame.js';
import { killChildProcess, onPath, spawnTracked } from './childProcesses.js';
import { EngineUnavailableError } from './engineErrors.js';
import type { EngineOptions, Recognition, SttEngine } from './types.js';

const LABEL = 'pocketsphinx';
const BINARY = 'pocketsphinx_batch';
/** Where Debian's `pocketsphinx-en-us` installs its models: `<dir>/<language>/{<language>/, cmudict-<language>.dict, <language>.lm.bin}`. */
export const DEFAULT_POCKETSPHINX_MODELS = '/usr/share/pocketsphinx/model';
const SAMPLE_RATE = 16_000;
// Wider than the defaults (1e-48 / 1e-48 / 7e-29): with them a few grammar phrases ("what time is it") ended in a
// non-final grammar state and came back empty; these decode all our test phrases exactly and cost < 10 ms each.
const BEAMS = ['-beam', '1e-80', '-pbeam', '1e-80', '-wbeam', '1e-60'];
const LOG_TAIL_CHARS = 600;
/**
 * Keyphrase detection threshold (lower detects more). 1e-30 spotted "open the door" inside "now open the door" and
 * nothing in "hello there" (espeak speech); 1e-50 already spotted it in "hello there".
 */
export const DEFAULT_KEYWORD_THRESHOLD = 1e-30;

/** Options of the pocketsphinx engine (all serializable). */
export interface PocketsphinxOptions {
  /** JSGF grammar text (`#JSGF V1.0; grammar g; public <s> = ...;`). Default: none. */
  readonly grammar?: string;
  /** Phrases to recognize, turned into a one-rule JSGF grammar. Default: none. */
  readonly phrases?: readonly string[];
  /** Keyphrases to spot instead of a grammar. Default: none. */
  readonly keywords?: readonly string[];
  /** Detection threshold of `keywords` (lower detects more, and more falsely). Default: 1e-30. */
  readonly keywordThreshold?: number;
  /** Model language directory name under `modelDir`. Default: 'en-us'. */
  readonly language?: string;
  /** Directory holding `<language>/` (acoustic model), `cmudict-<language>.dict`, `<language>.lm.bin`. Default: /usr/share/pocketsphinx/model/<language>. */
  readonly modelDir?: string;
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    throw new InvalidParamsError(`stt.${LABEL}`, field, 'must be a list of non-empty strings');
  }
  return value as string[];
}

/** A JSGF grammar accepting exactly one of `phrases` (lower-cased; JSGF-special characters removed). */
export function phrasesToJsgf(phrases: readonly string[]): string {
  const alternatives = phrases.map((p) => p.toLowerCase().replace(/[^a-z0-9' ]+/g, ' ').replace(/\s+/g, ' ').trim());
  return `#JSGF V1.0;\ngrammar phrases;\npublic <phrase> = ( ${alternatives.join(' | ')} );\n`;
}

function pcm16(samples: Float32Array): Buffer {
  const pcm = toInt16(samples);
  const out = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, i * 2);
  return out;
}

function notInstalled(cause?: unknown): EngineUnavailableError {
  return new EngineUnavailableError(LABEL, `'${BINARY}' not found on PATH: install the Debian packages pocketsphinx and pocketsphinx-en-us (apt-get install -y pocketsphinx pocketsphinx-en-us)`, { cause });
}

function readOptions(options: EngineOptions): Required<Pick<PocketsphinxOptions, 'language' | 'modelDir'>> & PocketsphinxOptions {
  const { grammar, language = 'en-us' } = options as PocketsphinxOptions;
  const modelDir = (options as PocketsphinxOptions).modelDir ?? path.join(DEFAULT_POCKETSPHINX_MODELS, language);
  if (grammar !== undefined && typeof grammar !== 'string') throw new InvalidParamsError(`stt.${LABEL}`, 'grammar', 'must be JSGF text');
  const { keywordThreshold } = options as PocketsphinxOptions;
  if (keywordThreshold !== undefined && !(typeof keywordThreshold === 'number' && keywordThreshold > 0)) {
    throw new InvalidParamsError(`stt.${LABEL}`, 'keywordThreshold', 'must be a positive number');
  }
  return { grammar, language, modelDir, keywordThreshold, phrases: stringList(options['phrases'], 'phrases'), keywords: stringList(options['keywords'], 'keywords') };
}

/**
 * Starts the warm process and checks it end to end with 0.3 s of silence.
 * @throws {@link EngineUnavailableError} naming the Debian packages or the expected model files.
 */
export async function loadPocketsphinx(raw: EngineOptions): Promise<SttEngine> {
  const options = readOptions(raw);
  const { language, modelDir } = options;
  const hmm = path.join(modelDir, language);
  const dict = path.join(modelDir, `cmudict-${language}.dict`);
  const lm = path.join(modelDir, `${language}.lm.bin`);
  const modes = [options.grammar, options.phrases, options.keywords].filter((m) => m !== undefined).length;
  if (modes > 1) throw new InvalidParamsError(`stt.${LABEL}`, 'grammar', 'give only one of grammar, phrases, keywords');
  const expected = [path.join(hmm, 'mdef'), dict, ...(modes === 0 ? [lm] : [])];
  const missing = expected.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new EngineUnavailableError(LABEL, `model files missing: ${missing.join(', ')} (install the Debian package pocketsphinx-en-us, or set modelDir to a directory with ${language}/, cmudict-${language}.dict, ${language}.lm.bin)`);
  }
  if (!onPath(BINARY)) throw notInstalled();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remotemedia-pocketsphinx-'));
  const log = path.join(dir, 'pocketsphinx.log');
  const ctl = path.join(dir, 'ctl.fifo');
  const hyp = path.join(dir, 'hyp.fifo');
  execFileSync('mkfifo', [ctl, hyp]);
  // Read-write opens never block on Linux (a write-only open would wait for the reader, forever if it died first).
  // Non-blocking fds wrapped in sockets are polled by the event loop: a blocking fs read of a FIFO would pin a
  // libuv thread-pool thread for the engine's lifetime (four engines would starve every fs call in the process).
  // Each socket uses one direction only: a readable control socket would consume the lines meant for the child.
  const fifo = (file: string, readable: boolean): Socket =>
    new Socket({ fd: openSync(file, constants.O_RDWR | constants.O_NONBLOCK), readable, writable: !readable });
  const ctlPipe = fifo(ctl, false);
  const hypPipe = fifo(hyp, true);
  const args = ['-adcin', 'yes', '-cepdir', dir, '-cepext', '.raw', '-ctl', ctl, '-hyp', hyp, '-logfn', log, '-hmm', hmm, '-dict', dict, '-samprate', String(SAMPLE_RATE), ...BEAMS];
  if (options.keywords !== undefined) {
    writeFileSync(path.join(dir, 'keywords.txt'), options.keywords.map((k) => `${k.toLowerCase()} /${options.keywordThreshold ?? DEFAULT_KEYWORD_THRESHOLD}/\n`).join(''));
    args.push('-kws', path.join(dir, 'keywords.txt'));
  } else if (options.grammar !== undefined || options.phrases !== undefined) {
    writeFileSync(path.join(dir, 'grammar.gram'), options.grammar ?? phrasesToJsgf(options.phrases!));
    args.push('-jsgf', path.join(dir, 'grammar.gram'));
  } else {
    args.push('-lm', lm);
  }

  const child = spawnTracked(BINARY, args);
  const pending = new Map<string, { resolve: (r: Recognition) => void; reject: (e: unknown) => void }>();
  let failure: EngineUnavailableError | undefined;
  let closing = false;
  const logTail = (): string => {
    try {
      const text = readFileSync(log, 'utf8');
      return text.slice(-LOG_TAIL_CHARS).trim();
    } catch {
      return '(no log)';
    }
  };
  const failAll = (error: EngineUnavailableError): void => {
    failure ??= error;
    for (const { reject } of pending.values()) reject(failure);
    pending.clear();
  };
  child.once('error', (e: NodeJS.ErrnoException) => {
    failAll(
      e.code === 'ENOENT'
        ? notInstalled(e)
        : new EngineUnavailableError(LABEL, `cannot start ${BINARY}: ${e.message}`, { cause: e }),
    );
  });
  child.once('exit', (code, signal) => {
    if (!closing) failAll(new EngineUnavailableError(LABEL, `${BINARY} exited (${signal ?? `code ${String(code)}`}); its log ends with: ${logTail()}`));
  });
  createInterface({ input: hypPipe }).on('line', (line) => {
    const match = /^(.*) \((\S+) -?\d+\)$/.exec(line);
    if (match === null) return;
    const [, text = '', id = ''] = match;
    const waiter = pending.get(id);
    if (waiter === undefined) return;
    pending.delete(id);
    try {
      unlinkSync(path.join(dir, `${id}.raw`));
    } catch {
      // Already gone: nothing to clean.
    }
    waiter.resolve({ text: text.trim().replace(/\s+/g, ' ') });
  });

  let next = 0;
  const recognize = (samples: Float32Array): Promise<Recognition> => {
    if (failure !== undefined) return Promise.reject(failure);
    if (samples.length === 0) return Promise.resolve({ text: '' });
    const id = `u${++next}`;
    writeFileSync(path.join(dir, `${id}.raw`), pcm16(samples));
    return new Promise<Recognition>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ctlPipe.write(`${id}\n`);
    });
  };
  const close = async (): Promise<void> => {
    closing = true;
    failAll(new EngineUnavailableError(LABEL, 'engine closed'));
    await killChildProcess(child);
    ctlPipe.destroy();
    hypPipe.destroy();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await recognize(new Float32Array(SAMPLE_RATE * 0.3));
  } catch (e) {
    await close();
    throw e;
  }
  return { label: LABEL, capabilities: { sampleRate: SAMPLE_RATE, grammar: true }, recognize, close };
}
