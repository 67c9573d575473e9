import { lastValueFrom, of, Subject, throwError, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidParamsError, RemoteMediaError } from '../../src/errors.js';
import { mapAsync } from '../../src/flow/mapAsync.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapAsync', () => {
  it('keeps input order with concurrency > 1 and varying latencies', async () => {
    const delays = [9, 1, 5, 0, 7, 2, 3, 8, 4, 6];
    const out = await lastValueFrom(of(...delays.keys()).pipe(mapAsync(async (i: number) => (await sleep(delays[i]!), i * 10), { concurrency: 4 }), toArray()));
    expect(out).toEqual(delays.map((_, i) => i * 10));
  });

  it('never runs more than `concurrency` calls at once', async () => {
    let running = 0;
    let peak = 0;
    await lastValueFrom(
      of(...Array.from({ length: 12 }, (_, i) => i)).pipe(
        mapAsync(
          async (x: number) => {
            peak = Math.max(peak, ++running);
            await sleep(2);
            running--;
            return x;
          },
          { concurrency: 3, size: 16 },
        ),
        toArray(),
      ),
    );
    expect(peak).toBe(3);
  });

  it('accepts synchronous results', async () => {
    expect(await lastValueFrom(of(1, 2, 3).pipe(mapAsync((x: number) => x + 1), toArray()))).toEqual([2, 3, 4]);
  });

  it('wraps a rejection as NODE_FAILED naming mapAsync', async () => {
    const result = lastValueFrom(of(1, 2).pipe(mapAsync(async (x: number) => {
      if (x === 2) throw new Error('boom');
      return x;
    })));
    await expect(result).rejects.toBeInstanceOf(RemoteMediaError);
    await expect(result).rejects.toMatchObject({ code: 'NODE_FAILED', node: 'mapAsync', message: 'mapAsync: boom' });
  });

  it('forwards upstream errors unchanged', async () => {
    const err = new Error('upstream');
    await expect(lastValueFrom(throwError(() => err).pipe(mapAsync((x: number) => x)))).rejects.toBe(err);
  });

  it('aborts the signal and ignores late results on unsubscribe', async () => {
    const subject = new Subject<number>();
    let aborted = false;
    const seen: number[] = [];
    const sub = subject
      .pipe(mapAsync(async (x: number, signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        await sleep(20);
        return x;
      }))
      .subscribe((x) => seen.push(x));
    subject.next(1);
    await sleep(2);
    sub.unsubscribe();
    await sleep(30);
    expect(aborted).toBe(true);
    expect(seen).toEqual([]);
    expect(subject.observed).toBe(false);
  });

  it('rejects bad options with InvalidParamsError naming the option', () => {
    expect(() => mapAsync((x: number) => x, { concurrency: 0 })).toThrow(InvalidParamsError);
    expect(() => mapAsync((x: number) => x, { size: 1.5 })).toThrow(/'size'/);
  });
});
