// The delays between tries after failures: doubling, capped, and spread so that clients that lost the server at
// the same moment do not all come back at the same moment (test/browser/sync.test.ts shows them in a client).
import { backoff } from '../../src/sync/client.js';

afterEach(() => vi.restoreAllMocks());

describe('sync retry delays', () => {
  it('lie in the upper half of a ceiling that doubles from 0.5 s after each failure, up to 30 s', () => {
    const random = vi.spyOn(Math, 'random');
    const bounds = [0, 1, 2, 3, 5, 6, 7, 20].map((failures) => {
      random.mockReturnValue(0);
      const low = backoff(failures);
      random.mockReturnValue(0.999_999);
      return [low, Math.round(backoff(failures))];
    });
    expect(bounds).toEqual([
      [250, 500],
      [500, 1_000],
      [1_000, 2_000],
      [2_000, 4_000],
      [8_000, 16_000],
      [15_000, 30_000],
      [15_000, 30_000],
      [15_000, 30_000],
    ]);
  });

  it('differ between clients that failed as often', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoff(4)));
    expect(delays.size).toBeGreaterThan(40);
    for (const delay of delays) expect(delay >= 4_000 && delay <= 8_000).toBe(true);
  });
});
