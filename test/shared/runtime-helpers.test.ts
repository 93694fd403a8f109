import { CheckpointError } from '../../src/index.js';
import { requestPersistentStorage } from '../../src/runtime/persistent-storage.js';
import { withThreadLock } from '../../src/runtime/thread-lock.js';

// WebKitGTK's pages have no navigator.storage (pinned in test/browser/engine-differences.test.ts).
const canAskToPersist = typeof window !== 'undefined' && typeof navigator.storage?.persist === 'function';

describe('withThreadLock', () => {
  it('runs work on one thread one at a time, and on different threads side by side', async () => {
    const events: string[] = [];
    const work = (label: string, ms: number) => async () => {
      events.push(`${label} start`);
      await new Promise((done) => setTimeout(done, ms));
      events.push(`${label} end`);
      return label;
    };
    const results = await Promise.all([
      withThreadLock('db', 'thread-a', work('a1', 30)),
      withThreadLock('db', 'thread-a', work('a2', 1)),
      withThreadLock('db', 'thread-b', work('b1', 1)),
    ]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(events.indexOf('a2 start')).toBeGreaterThan(events.indexOf('a1 end'));
    expect(events.indexOf('b1 end')).toBeLessThan(events.indexOf('a1 end'));
  });

  it('releases the lock when the work fails', async () => {
    await expect(withThreadLock('db', 'thread-c', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withThreadLock('db', 'thread-c', () => 'after')).toBe('after');
  });
});

describe('requestPersistentStorage', () => {
  it.runIf(canAskToPersist)('asks the browser to persist, and reports usage and quota', async () => {
    const report = await requestPersistentStorage();
    expect(typeof report.persisted).toBe('boolean');
    expect(report.quota).toBeGreaterThan(0);
    expect(report.usage).toBeGreaterThanOrEqual(0);
  });

  it('says clearly when the context cannot ask (Node, workers)', async () => {
    const navigatorDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });
    try {
      const error = await requestPersistentStorage().catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).code).toBe('UNAVAILABLE');
      expect((error as CheckpointError).message).toMatch(/no navigator\.storage\.persist/);
    } finally {
      if (navigatorDescriptor) Object.defineProperty(globalThis, 'navigator', navigatorDescriptor);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
  });
});
