import { act } from 'react';
import { createPageDataSource } from '../../src/devtools/page-source.js';
import { BrowserStore } from '../../src/index.js';
import { DevtoolsPanel } from '../../src/panel/DevtoolsPanel.js';
import { freshDbName } from '../support/fixtures.js';
import { click, usePanelContainer } from '../support/panel-container.js';

const HOSTILE_TEXT = '<img src="x" onerror="window.__storePwned = 1"><script>window.__storePwned = 2</script><b>bold</b>';

const panel = usePanelContainer(600);
const { $$, buttonNamed } = panel;
let store: BrowserStore;
beforeEach(async () => {
  store = new BrowserStore({ dbName: freshDbName('store-view') });
  await store.put(['memories', 'ada'], 'drink', { text: 'I like green tea' });
  await store.put(['memories', 'ada'], 'food', { text: 'I like rice' });
  await store.put(['memories', 'bob'], 'drink', { text: 'I like coffee' });
  await store.put(['prefs'], 'theme', { text: 'dark' }, undefined, { ttl: 60 });
});
afterEach(async () => {
  await store.close();
  await BrowserStore.deleteDatabase(store.dbName);
});

const itemKeys = () => $$('[aria-label="Items"] button > div:first-child').map((div) => div.textContent);
const treeLabels = () => $$('[aria-label="Namespaces"] [role="treeitem"] > button').map((button) => `${button.style.paddingLeft} ${button.textContent}`);

async function renderStoreView() {
  const source = createPageDataSource([], [store]);
  await panel.render(<DevtoolsPanel source={source} theme="light" />);
  await click(buttonNamed('Store'));
  await vi.waitFor(() => expect(itemKeys().length).toBeGreaterThan(0));
}

describe('the Store view', () => {
  it('shows the namespaces as a tree and the items under the chosen one', async () => {
    await renderStoreView();
    expect($$('[aria-label="Stores"] button').map((button) => button.textContent)).toEqual([store.dbName]);
    // Nested labels are indented under their parent.
    expect(treeLabels()).toEqual(['6px memories', '18px ada', '18px bob', '6px prefs']);
    expect(itemKeys()).toEqual(['drink', 'food', 'drink', 'theme']);
    await click($$('[aria-label="Namespaces"] button').find((button) => button.textContent === 'bob'));
    await vi.waitFor(() => expect(itemKeys()).toEqual(['drink']));
    expect($$('[aria-label="Item"]')[0]!.textContent).toMatch(/memories \/ bob/);
    expect($$('[aria-label="Item"]')[0]!.textContent).toContain('"I like coffee"');
    await click($$('[aria-label="Namespaces"] button').find((button) => button.textContent === 'prefs'));
    await vi.waitFor(() => expect(itemKeys()).toEqual(['theme']));
    expect($$('[aria-label="Item"]')[0]!.textContent).toMatch(/expires in (59|60) minutes/);
  });

  it('narrows the items by text, and shows items put later without being asked', async () => {
    await renderStoreView();
    const search = panel.element.querySelector<HTMLInputElement>('input[aria-label="Search items"]')!;
    await act(async () => {
      const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      setValue.call(search, 'LIKE tea');
      search.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await vi.waitFor(() => expect(itemKeys()).toEqual(['drink']));
    expect($$('[aria-label="Item"]')[0]!.textContent).toContain('green tea');

    await act(async () => {
      await store.put(['memories', 'cy'], 'drink', { text: 'I like black tea' });
    });
    await vi.waitFor(() => expect(itemKeys()).toEqual(['drink', 'drink']));
    expect(treeLabels()).toContain('18px cy');
    await act(async () => {
      await store.delete(['memories', 'ada'], 'drink');
      await store.delete(['memories', 'bob'], 'drink');
    });
    await vi.waitFor(() => expect(itemKeys()).toEqual(['drink']));
    expect($$('[aria-label="Item"]')[0]!.textContent).toContain('black tea');
    // A namespace whose last item went leaves the tree.
    await vi.waitFor(() => expect(treeLabels()).toEqual(['6px memories', '18px ada', '18px cy', '6px prefs']));
  });

  it('shows values holding HTML and scripts as text, never as markup', async () => {
    await store.put(['hostile'], '<b>key</b>', { text: HOSTILE_TEXT, nested: { html: '<iframe src="about:blank"></iframe>' } });
    await renderStoreView();
    await click($$('[aria-label="Namespaces"] button').find((button) => button.textContent === 'hostile'));
    await vi.waitFor(() => expect(itemKeys()).toEqual(['<b>key</b>']));
    const detail = $$('[aria-label="Item"]')[0]!;
    await vi.waitFor(() => expect(detail.textContent).toContain(HOSTILE_TEXT));
    expect(detail.textContent).toContain('<iframe src="about:blank"></iframe>');
    expect(panel.element.querySelectorAll('img, script, iframe, b').length).toBe(0);
    expect((window as { __storePwned?: number }).__storePwned).toBeUndefined();
  });
});
