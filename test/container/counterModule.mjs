// Mounted into the container and loaded with REMOTEMEDIA_MODULES: a class clients can proxy.
import { registerClass } from '/app/dist/executor/index.js';

registerClass(
  'Counter',
  class Counter {
    constructor(start = 0) {
      this.n = start;
    }
    increment(by = 1) {
      this.n += by;
      return this.n;
    }
  },
);
