import { useEffect, useState } from 'react';

/** Runs `load` whenever its inputs change, dropping answers that arrive after newer ones were asked for. */
export function useLoaded<T>(load: () => Promise<T> | undefined, initial: T, deps: unknown[], onError: (error: unknown) => void): T {
  const [value, setValue] = useState<T>(initial);
  useEffect(() => {
    let current = true;
    const pending = load();
    if (!pending) {
      setValue(initial);
      return;
    }
    pending.then(
      (loaded) => current && setValue(loaded),
      (error: unknown) => current && onError(error),
    );
    return () => {
      current = false;
    };
    // The caller lists the inputs of `load` in `deps`.
  }, deps);
  return value;
}
