import { describe, expect, it } from 'vitest';
import { IntervalHistogram } from '../../src/media/webrtc/intervalHistogram.js';

describe('IntervalHistogram', () => {
  it('reports interval and jitter percentiles (0.1 ms resolution, upper edges)', () => {
    const h = new IntervalHistogram(20);
    let t = 1000;
    h.mark(t);
    for (let i = 0; i < 198; i++) h.mark((t += 20));
    h.mark((t += 27)); // one late frame
    h.mark((t += 13)); // and the short one after it
    expect(h.stats()).toEqual({ count: 200, intervalP50Ms: 20.1, intervalP99Ms: 20.1, jitterP99Ms: 0.1 });
    for (let i = 0; i < 3; i++) h.mark((t += 27)); // now 5 of 203 are off by 7 ms
    const s = h.stats();
    expect(s.intervalP99Ms).toBe(27.1);
    expect(s.jitterP99Ms).toBe(7.1);
  });

  it('ignores the warm-up intervals', () => {
    const h = new IntervalHistogram(20, 2);
    [0, 100, 200, 220, 240].forEach((t) => h.mark(t));
    expect(h.stats()).toMatchObject({ count: 2, intervalP99Ms: 20.1 });
  });

  it('is empty before two marks and clamps huge gaps', () => {
    const h = new IntervalHistogram(20);
    expect(h.stats()).toEqual({ count: 0, intervalP50Ms: 0, intervalP99Ms: 0, jitterP99Ms: 0 });
    h.mark(0);
    h.mark(10_000);
    expect(h.stats().intervalP50Ms).toBe(200);
  });
});
