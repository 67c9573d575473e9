import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { startExecutor } from '../../executor/index.js';
import { EngineUnavailableError } from '../../src/engines/index.js';
import { errorFromData, errorToData } from '../../src/errors.js';
import { audioFrame } from '../../src/media/audioFrame.js';
import { speechToText } from '../../src/operators/ml/speechToText.js';
import { remote } from '../../src/remote/index.js';

describe('EngineUnavailableError across the wire', () => {
  it('is rebuilt by class from wire data, keeping engine, detail and retryable = false', () => {
    const sent = new EngineUnavailableError('pocketsphinx', 'install the Debian package pocketsphinx', { node: 'ml.speechToText' });
    const back = errorFromData(errorToData(sent));
    expect(back).toBeInstanceOf(EngineUnavailableError);
    expect(back).toMatchObject({ code: 'UNAVAILABLE', node: 'ml.speechToText', engine: 'pocketsphinx', detail: 'install the Debian package pocketsphinx' });
    expect(back.retryable).toBe(false);
  });

  it('a missing model directory on the executor reaches the client as a non-retryable EngineUnavailableError', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'rm-no-models-'));
    // Paths in messages reach only callers allowed to see them (errorStacks); this one checks the path arrives.
    const executor = await startExecutor({ port: 0, logLevel: 'silent', preload: [], errorStacks: 'always' });
    try {
      const utterance = audioFrame({ samples: new Float32Array(16_000), sampleRate: 16_000, channels: 1 });
      const result = lastValueFrom(of(utterance).pipe(remote({ address: executor.address }, speechToText({ engine: 'whisper', modelDir: empty }))));
      await expect(result).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(result).rejects.toMatchObject({ code: 'UNAVAILABLE', node: 'ml.speechToText', engine: 'whisper', retryable: false });
      await expect(result).rejects.toHaveProperty('message', expect.stringContaining(empty));
    } finally {
      await executor.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
