/** Loaded by the executor (`--module`) in bench/compare.ts and bench/soak.ts: a class clients proxy. */
import { registerClass } from '../../executor/index.js';

class Counter {
  constructor(private n = 0) {}
  increment(by = 1): number {
    this.n += by;
    return this.n;
  }
}

registerClass('Counter', Counter);
