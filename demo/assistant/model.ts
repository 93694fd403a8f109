/**
 * The assistant's "model": deterministic rules that read the user's message and choose what to do. It runs
 * entirely in the page, with no network, so the demo works offline and behaves the same every time.
 */
export type Intent =
  | { kind: 'remember'; fact: string }
  | { kind: 'recall'; about: string }
  | { kind: 'add-note'; text: string }
  | { kind: 'add-todo'; text: string }
  | { kind: 'complete-todo'; index: number }
  | { kind: 'clear'; what: 'notes' | 'todos' | 'everything' }
  | { kind: 'list' }
  | { kind: 'summarize' }
  | { kind: 'greet' }
  | { kind: 'help' };

const RULES: [RegExp, (match: RegExpMatchArray) => Intent][] = [
  // Facts about the user outlive the conversation (the store); notes belong to it (the checkpoints).
  [/^remember that\s+(.+?)[.!]?$/i, (m) => ({ kind: 'remember', fact: m[1]!.trim() })],
  [/^what do (?:i|you know i)\s+([a-z]+)\??$/i, (m) => ({ kind: 'recall', about: m[1]!.toLowerCase() })],
  [/^what do you (?:remember|know)(?: about me)?\??$/i, () => ({ kind: 'recall', about: '' })],
  [/^(?:note|remember)[:\s]+(.+)$/i, (m) => ({ kind: 'add-note', text: m[1]!.trim() })],
  [/^(?:todo|task|add task|add todo)[:\s]+(.+)$/i, (m) => ({ kind: 'add-todo', text: m[1]!.trim() })],
  [/^(?:done|complete|finish)\s+#?(\d+)$/i, (m) => ({ kind: 'complete-todo', index: Number(m[1]) })],
  [/^(?:clear|delete|forget)\s+(?:all\s+)?(notes|todos|tasks|everything)$/i, (m) => ({ kind: 'clear', what: m[1]!.toLowerCase() === 'tasks' ? 'todos' : (m[1]!.toLowerCase() as 'notes' | 'todos' | 'everything') })],
  [/^(?:list|show)(?:\s+(?:all|everything|notes|todos))?$/i, () => ({ kind: 'list' })],
  [/^(?:summary|summarize|sum up)$/i, () => ({ kind: 'summarize' })],
  [/^(?:hi|hello|hey)\b/i, () => ({ kind: 'greet' })],
];

export function understand(message: string): Intent {
  const text = message.trim();
  for (const [pattern, intent] of RULES) {
    const match = text.match(pattern);
    if (match) return intent(match);
  }
  return { kind: 'help' };
}

export const HELP =
  'I keep notes and a to-do list, right here in your browser. Try: "note: buy milk", "todo: call Ada", ' +
  '"done 1", "list", "summary", or "clear notes" (I will ask first). I also remember facts across ' +
  'conversations: "remember that I like tea", then, in any conversation, "what do I like?".';
