import { ANNOUNCE_EVERY_MS, ChangeBroadcaster, subscribeToChanges, type CheckpointChange } from '../../src/storage/changes.js';
import { freshDbName } from '../support/fixtures.js';

const change = (n: number): CheckpointChange => ({ kind: 'checkpoint', thread_id: 't', checkpoint_ns: '', checkpoint_id: `cp-${n}` });

describe('ChangeBroadcaster', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('posts the first commit of a quiet spell at once, and the commits that follow it together when the spell ends', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const posted: CheckpointChange[][] = [];
    vi.spyOn(BroadcastChannel.prototype, 'postMessage').mockImplementation((message: { changes: CheckpointChange[] }) => posted.push(message.changes));
    const broadcaster = new ChangeBroadcaster(freshDbName('changes'));
    broadcaster.post([change(1)]);
    expect(posted).toEqual([[change(1)]]);
    broadcaster.post([change(2)]);
    broadcaster.post([change(3), change(4)]);
    expect(posted).toHaveLength(1);
    vi.advanceTimersByTime(ANNOUNCE_EVERY_MS);
    expect(posted).toEqual([[change(1)], [change(2), change(3), change(4)]]);
    // Quiet for a whole spell: the next commit leaves at once again.
    vi.advanceTimersByTime(ANNOUNCE_EVERY_MS);
    broadcaster.post([change(5)]);
    expect(posted.at(-1)).toEqual([change(5)]);
    broadcaster.close();
  });

  it('sends what waits when it closes', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const posted: CheckpointChange[][] = [];
    vi.spyOn(BroadcastChannel.prototype, 'postMessage').mockImplementation((message: { changes: CheckpointChange[] }) => posted.push(message.changes));
    const broadcaster = new ChangeBroadcaster(freshDbName('changes'));
    broadcaster.post([change(1)]);
    broadcaster.post([change(2)]);
    broadcaster.close();
    expect(posted).toEqual([[change(1)], [change(2)]]);
    vi.advanceTimersByTime(ANNOUNCE_EVERY_MS);
    expect(posted).toHaveLength(2);
  });

  it('reaches listeners in order, however the changes were grouped', async () => {
    const dbName = freshDbName('changes');
    const heard: CheckpointChange[] = [];
    const unsubscribe = subscribeToChanges(dbName, (heardChange) => heard.push(heardChange));
    const broadcaster = new ChangeBroadcaster(dbName);
    for (let n = 1; n <= 5; n += 1) broadcaster.post([change(n)]);
    await vi.waitFor(() => expect(heard).toEqual([1, 2, 3, 4, 5].map(change)));
    broadcaster.close();
    unsubscribe();
  });
});
