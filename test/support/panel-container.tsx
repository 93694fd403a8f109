// A React root in a sized container of the test page, made fresh for each test: what every panel test renders into.
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { PANEL_CSS } from '../../src/panel/styles.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export interface PanelContainer {
  /** The current test's container element. */
  readonly element: HTMLElement;
  /** Renders `node` into the container's root and lets its effects run. */
  render(node: ReactNode): Promise<void>;
  /** Unmounts what was rendered and starts an empty root in the same container. */
  remount(): void;
  $<E extends Element = HTMLElement>(selector: string): E | null;
  $$<E extends Element = HTMLElement>(selector: string): E[];
  /** The first button whose text is `name` (or matches it). */
  buttonNamed(name: string | RegExp): HTMLButtonElement | undefined;
}

/** Clicks `element` and lets React settle. */
export const click = (element: Element | null | undefined) => act(async () => (element as HTMLElement).click());

/**
 * Registers hooks that give each test a container `heightPx` tall (with the panel's stylesheet on the page) and
 * unmount and remove it after.
 */
export function usePanelContainer(heightPx: number): PanelContainer {
  let element: HTMLElement | undefined;
  let root: Root | undefined;
  const current = () => {
    if (!element) throw new Error('The panel container exists only inside a test.');
    return element;
  };
  beforeAll(() => {
    const style = document.createElement('style');
    style.textContent = PANEL_CSS;
    document.head.append(style);
  });
  beforeEach(() => {
    element = document.createElement('div');
    element.style.height = `${heightPx}px`;
    document.body.append(element);
    root = createRoot(element);
  });
  afterEach(() => {
    act(() => root!.unmount());
    element!.remove();
    element = undefined;
  });
  const $$ = <E extends Element = HTMLElement>(selector: string) => [...current().querySelectorAll<E>(selector)];
  return {
    get element() {
      return current();
    },
    render: (node) => act(async () => root!.render(node)),
    remount: () => {
      act(() => root!.unmount());
      root = createRoot(current());
    },
    $: (selector) => current().querySelector(selector),
    $$,
    buttonNamed: (name) => $$<HTMLButtonElement>('button').find((button) => (typeof name === 'string' ? button.textContent === name : name.test(button.textContent ?? ''))),
  };
}
