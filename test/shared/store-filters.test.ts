import { CheckpointError } from '../../src/index.js';
import { useFreshStores } from '../support/store-fixtures.js';

const ITEMS: Record<string, Record<string, unknown>> = {
  a: { n: 1, colour: 'red', day: '2026-01-05', tags: ['x', 'y'], meta: { lang: 'en', v: 2 } },
  b: { n: 5, colour: 'green', day: '2026-02-10', tags: ['y'], meta: { lang: 'fr' } },
  c: { n: 9, colour: 'blue', day: '2026-03-01', missing: null },
  d: { n: '7', colour: 'red' },
  e: { colour: 'green', done: true },
};

describe('BrowserStore search filters', () => {
  const freshStore = useFreshStores('filters');
  async function keysMatching(filter: Record<string, unknown>) {
    const store = freshStore();
    await store.batch(Object.entries(ITEMS).map(([key, value]) => ({ namespace: ['f'], key, value })));
    return (await store.search(['f'], { filter, limit: 100 })).map((item) => item.key);
  }

  it.each([
    ['a plain value is equality', { colour: 'red' }, ['a', 'd']],
    ['several conditions must all hold', { colour: 'red', n: 1 }, ['a']],
    ['$eq', { colour: { $eq: 'green' } }, ['b', 'e']],
    ['$ne keeps items without the field', { n: { $ne: 5 } }, ['a', 'c', 'd', 'e']],
    ['$gt compares numbers with numbers only', { n: { $gt: 4 } }, ['b', 'c']],
    ['$gte and $lt together', { n: { $gte: 1, $lt: 9 } }, ['a', 'b']],
    ['$lte', { n: { $lte: 5 } }, ['a', 'b']],
    ['strings compare as text (ISO dates)', { day: { $gte: '2026-02-01' } }, ['b', 'c']],
    ['$in', { colour: { $in: ['blue', 'green'] } }, ['b', 'c', 'e']],
    ['$nin keeps items without the field', { n: { $nin: [1, 9] } }, ['b', 'd', 'e']],
    ['$exists true', { done: { $exists: true } }, ['e']],
    ['$exists false', { n: { $exists: false } }, ['e']],
    ['$exists counts a null value as present', { missing: { $exists: true } }, ['c']],
    ['null matches only null', { missing: null }, ['c']],
    ['an object is containment', { meta: { lang: 'en' } }, ['a']],
    ['an array is containment', { tags: ['y'] }, ['a', 'b']],
    ['$eq on an object is structural equality', { meta: { $eq: { lang: 'fr' } } }, ['b']],
  ])('%s', async (_, filter, expected) => {
    expect(await keysMatching(filter)).toEqual(expected);
  });

  it.each([
    ['an unknown operator', { n: { $regex: 'x' } }, /unknown operator \$regex/],
    ['$in without an array', { n: { $in: 3 } }, /\$in takes an array/],
    ['$gt with an object', { n: { $gt: { a: 1 } } }, /\$gt compares with a number or a string/],
    ['$exists with a string', { n: { $exists: 'yes' } }, /\$exists takes true or false/],
    ['operators mixed with plain keys', { meta: { $eq: 1, lang: 'en' } }, /mixes operators/],
    ['an undefined condition', { n: undefined }, /JSON value or an operator object/],
  ])('refuses %s with INVALID_CONFIG', async (_, filter, message) => {
    const store = freshStore();
    const error = await store.search(['f'], { filter }).catch((thrown: unknown) => thrown);
    expect(CheckpointError.is(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a filter that is not an object', async () => {
    const store = freshStore();
    const error = await store.search(['f'], { filter: ['colour', 'red'] as unknown as Record<string, unknown> }).catch((thrown: unknown) => thrown);
    expect(CheckpointError.is(error, 'INVALID_CONFIG')).toBe(true);
  });
});
