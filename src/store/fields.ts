import { CheckpointError } from '../errors.js';

/** One step of a field path: a key, an array index (negative counts from the end), or every element. */
type PathStep = { key: string } | { index: number } | { every: true };

const STEP = /\[(\*|-?\d+)\]|([^.[\]]+)|(\.)/gy;

/**
 * Parses a field path as LangGraph's index config writes them: `"$"` (the whole value), `"title"`,
 * `"metadata.title"`, `"chapters[*].content"`, `"authors[0].name"`, `"versions[-1]"`.
 */
export function parseFieldPath(path: unknown): PathStep[] | 'whole' {
  if (typeof path !== 'string' || path === '') {
    throw new CheckpointError('INVALID_CONFIG', `A field path must be a non-empty string, got ${JSON.stringify(path) ?? String(path)}.`);
  }
  if (path === '$') return 'whole';
  const steps: PathStep[] = [];
  STEP.lastIndex = 0;
  while (STEP.lastIndex < path.length) {
    const at = STEP.lastIndex;
    const match = STEP.exec(path);
    if (!match) throw new CheckpointError('INVALID_CONFIG', `Field path "${path}" cannot be read at character ${at + 1}.`);
    const [, index, key] = match;
    if (index === '*') steps.push({ every: true });
    else if (index !== undefined) steps.push({ index: Number(index) });
    else if (key !== undefined) steps.push({ key });
  }
  return steps;
}

function leafTexts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (typeof value === 'object' && value !== null) return [JSON.stringify(value, null, 2)];
  return [];
}

function textsAt(value: unknown, steps: PathStep[], from: number): string[] {
  if (from === steps.length) return leafTexts(value);
  const step = steps[from]!;
  if ('key' in step) {
    return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, step.key)
      ? textsAt((value as Record<string, unknown>)[step.key], steps, from + 1)
      : [];
  }
  if (!Array.isArray(value)) return [];
  if ('every' in step) return value.flatMap((element) => textsAt(element, steps, from + 1));
  const index = step.index < 0 ? value.length + step.index : step.index;
  return index >= 0 && index < value.length ? textsAt(value[index], steps, from + 1) : [];
}

/**
 * The texts to embed for each path: one text keeps the path as its field name, several are numbered
 * (`"tags[*].0"`, `"tags[*].1"`), so that each becomes one vector of the item.
 */
export function textsToEmbed(value: Record<string, unknown>, paths: readonly string[]): { field: string; text: string }[] {
  const texts: { field: string; text: string }[] = [];
  for (const path of paths) {
    const steps = parseFieldPath(path);
    const found = steps === 'whole' ? [JSON.stringify(value, null, 2)] : textsAt(value, steps, 0);
    if (found.length === 1) texts.push({ field: path, text: found[0]! });
    else found.forEach((text, i) => texts.push({ field: `${path}.${i}`, text }));
  }
  return texts;
}
