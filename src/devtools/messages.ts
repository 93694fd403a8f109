/**
 * Chat messages as the panel shows them. Agents keep conversations in many shapes: LangChain's serialized form
 * (`{ lc: 1, type: 'constructor', id: [..., 'AIMessage'], kwargs }`, what the savers store), live or
 * structured-cloned message instances, and plain `{ role, content }` objects. This module recognises all of
 * them and turns each into one `ChatMessage`; it is pure, so the views, search and previews agree.
 */

export type MessageRole = 'human' | 'ai' | 'tool' | 'system' | 'remove' | 'other';

export type ContentPart =
  | { kind: 'text'; text: string }
  /** Model reasoning ("thinking") shown apart from the answer. */
  | { kind: 'reasoning'; text: string }
  /** `url` is a link or a `data:` URL; `mimeType` when known. */
  | { kind: 'image'; url: string | null; mimeType: string | null }
  /** Anything else (audio, files, provider blocks): shown as its JSON. */
  | { kind: 'other'; type: string; value: unknown };

export interface ToolCall {
  id: string | null;
  name: string;
  /** Parsed when the model sent the arguments as JSON text; the text itself when that text is not JSON. */
  args: unknown;
  /** Why the call could not be parsed (LangChain's `invalid_tool_calls`). */
  error: string | null;
}

export interface TokenUsage {
  input: number | null;
  output: number | null;
  total: number | null;
}

export interface ChatMessage {
  role: MessageRole;
  /** What to call the role: `human`, `ai`, `tool`, `system`, or the message's own role (`critic`, `function`). */
  label: string;
  id: string | null;
  name: string | null;
  /** Every text part, in order. */
  text: string;
  parts: ContentPart[];
  toolCalls: ToolCall[];
  /** The call a tool message answers. */
  toolCallId: string | null;
  /** A tool message's status: `error` when the tool failed. */
  status: string | null;
  usage: TokenUsage | null;
  /** The message as stored. */
  raw: unknown;
}

type Fields = Record<string, unknown>;

const isRecord = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOr = <T>(value: unknown, fallback: T): string | T => (typeof value === 'string' ? value : fallback);
const numberOrNull = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** LangChain's class names, with and without `Chunk`, and the role names plain objects use. */
const ROLES: Record<string, MessageRole> = {
  human: 'human',
  user: 'human',
  ai: 'ai',
  assistant: 'ai',
  tool: 'tool',
  system: 'system',
  developer: 'system',
  remove: 'remove',
  function: 'other',
  generic: 'other',
};
const CLASS_ROLES: Record<string, string> = {
  HumanMessage: 'human',
  AIMessage: 'ai',
  ToolMessage: 'tool',
  SystemMessage: 'system',
  RemoveMessage: 'remove',
  FunctionMessage: 'function',
  ChatMessage: 'generic',
};

/** The role name and fields of a value in any of the shapes, or undefined when it is not a message. */
function recognise(value: unknown): { role: string; fields: Fields } | undefined {
  if (!isRecord(value)) return undefined;
  // Serialized: { lc: 1, type: 'constructor', id: ['langchain_core', 'messages', 'AIMessage'], kwargs }.
  if (value['lc'] === 1 && value['type'] === 'constructor' && Array.isArray(value['id']) && isRecord(value['kwargs'])) {
    const className = stringOr(value['id'].at(-1), '').replace(/Chunk$/, '');
    const role = CLASS_ROLES[className];
    if (!role) return undefined;
    const fields = value['kwargs'];
    return { role: role === 'generic' ? stringOr(fields['role'], 'generic') : role, fields };
  }
  if (!('content' in value)) return undefined;
  // A live instance (`getType()`, or `_getType()` before @langchain/core 1), or one copied by structured clone.
  for (const method of ['getType', '_getType']) {
    const getType = value[method];
    if (typeof getType === 'function') {
      const role = (getType as () => unknown).call(value);
      if (typeof role === 'string' && role in ROLES) return { role: role === 'generic' ? stringOr(value['role'], role) : role, fields: value };
    }
  }
  const type = value['type'];
  if (typeof type === 'string' && type in ROLES) return { role: type === 'generic' ? stringOr(value['role'], type) : type, fields: value };
  const role = value['role'];
  if (typeof role === 'string' && role in ROLES) return { role, fields: value };
  return undefined;
}

function partOf(part: unknown): ContentPart {
  if (typeof part === 'string') return { kind: 'text', text: part };
  if (!isRecord(part)) return { kind: 'other', type: typeof part, value: part };
  const type = stringOr(part['type'], 'unknown');
  if (type === 'text' && typeof part['text'] === 'string') return { kind: 'text', text: part['text'] };
  if ((type === 'reasoning' || type === 'thinking') && typeof part[type] === 'string') return { kind: 'reasoning', text: part[type] as string };
  if (type === 'image_url') {
    const image = part['image_url'];
    return { kind: 'image', url: stringOr(isRecord(image) ? image['url'] : image, null), mimeType: null };
  }
  if (type === 'image') {
    // LangChain's standard blocks (`url`, or `data` with `mimeType`/`mime_type`), and Anthropic's `source`.
    const source = isRecord(part['source']) ? part['source'] : part;
    const mimeType = stringOr(source['mimeType'] ?? source['mime_type'] ?? source['media_type'], null);
    const data = stringOr(source['data'], null);
    const url = stringOr(source['url'], null) ?? (data !== null ? `data:${mimeType ?? 'application/octet-stream'};base64,${data}` : null);
    return { kind: 'image', url, mimeType };
  }
  return { kind: 'other', type, value: part };
}

function argsOf(args: unknown): unknown {
  if (typeof args !== 'string') return args ?? {};
  try {
    return JSON.parse(args) as unknown;
  } catch {
    return args;
  }
}

function toolCallsOf(fields: Fields): ToolCall[] {
  const calls: ToolCall[] = [];
  const additional = isRecord(fields['additional_kwargs']) ? fields['additional_kwargs'] : {};
  // LangChain's own list first; OpenAI's `{ function: { name, arguments } }` form when a message has only that.
  const listed = Array.isArray(fields['tool_calls']) && fields['tool_calls'].length > 0 ? fields['tool_calls'] : additional['tool_calls'];
  for (const call of Array.isArray(listed) ? listed : []) {
    if (!isRecord(call)) continue;
    const fn = isRecord(call['function']) ? call['function'] : undefined;
    calls.push({ id: stringOr(call['id'], null), name: stringOr(fn?.['name'] ?? call['name'], '(unnamed)'), args: argsOf(fn ? fn['arguments'] : call['args']), error: null });
  }
  for (const call of Array.isArray(fields['invalid_tool_calls']) ? fields['invalid_tool_calls'] : []) {
    if (!isRecord(call)) continue;
    calls.push({ id: stringOr(call['id'], null), name: stringOr(call['name'], '(unnamed)'), args: argsOf(call['args']), error: stringOr(call['error'], 'invalid tool call') });
  }
  return calls;
}

function usageOf(fields: Fields): TokenUsage | null {
  const usage = fields['usage_metadata'];
  if (!isRecord(usage)) return null;
  return { input: numberOrNull(usage['input_tokens']), output: numberOrNull(usage['output_tokens']), total: numberOrNull(usage['total_tokens']) };
}

/** One message in the common shape, or undefined when the value is not a message. */
export function asChatMessage(value: unknown): ChatMessage | undefined {
  const recognised = recognise(value);
  if (!recognised) return undefined;
  const { fields } = recognised;
  const role = ROLES[recognised.role] ?? 'other';
  const content = fields['content'];
  const toolCalls = toolCallsOf(fields);
  const callIds = new Set(toolCalls.map((call) => call.id));
  // Providers that put tool calls in the content as well (`tool_use`, `tool_call` blocks): shown once, as calls.
  const parts = (Array.isArray(content) ? content.map(partOf) : typeof content === 'string' && content !== '' ? [partOf(content)] : []).filter(
    (part) => !(part.kind === 'other' && isRecord(part.value) && callIds.has(stringOr(part.value['id'], null))),
  );
  return {
    role,
    label: role === 'other' ? recognised.role : role,
    id: stringOr(fields['id'], null),
    name: stringOr(fields['name'], null),
    text: parts
      .filter((part): part is { kind: 'text'; text: string } => part.kind === 'text')
      .map((part) => part.text)
      .join('\n'),
    parts,
    toolCalls,
    toolCallId: stringOr(fields['tool_call_id'], null),
    status: stringOr(fields['status'], null),
    usage: usageOf(fields),
    raw: value,
  };
}

/** The messages of a value that is a non-empty list of messages, or a single message; otherwise undefined. */
export function asChatMessages(value: unknown): ChatMessage[] | undefined {
  if (!Array.isArray(value)) {
    const single = asChatMessage(value);
    return single && [single];
  }
  if (value.length === 0) return undefined;
  const messages: ChatMessage[] = [];
  for (const item of value) {
    const message = asChatMessage(item);
    if (!message) return undefined;
    messages.push(message);
  }
  return messages;
}

export interface MessageChanges {
  added: ChatMessage[];
  /** Messages whose id stayed while the message changed. */
  replaced: { before: ChatMessage; after: ChatMessage }[];
  removed: ChatMessage[];
}

/** What changed between two lists of messages: matched by id, or by content for messages without one. */
export function diffChatMessages(before: readonly ChatMessage[], after: readonly ChatMessage[]): MessageChanges {
  const keyOf = (message: ChatMessage) => (message.id !== null ? `id:${message.id}` : `json:${JSON.stringify(message.raw)}`);
  const remaining = new Map<string, ChatMessage[]>();
  for (const message of before) remaining.set(keyOf(message), [...(remaining.get(keyOf(message)) ?? []), message]);
  const changes: MessageChanges = { added: [], replaced: [], removed: [] };
  for (const message of after) {
    const earlier = remaining.get(keyOf(message))?.shift();
    if (!earlier) changes.added.push(message);
    else if (JSON.stringify(earlier.raw) !== JSON.stringify(message.raw)) changes.replaced.push({ before: earlier, after: message });
  }
  for (const left of remaining.values()) changes.removed.push(...left);
  return changes;
}

/** The tool calls of a list of messages by id, to name the call each tool result answers. */
export function toolCallsById(messages: readonly ChatMessage[]): Map<string, ToolCall> {
  const calls = new Map<string, ToolCall>();
  for (const message of messages) for (const call of message.toolCalls) if (call.id !== null) calls.set(call.id, call);
  return calls;
}

const PREVIEW_TEXT = 60;
const PREVIEW_LINE = 120;

const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** One message in a few words: `ai: It is 18°C…`, `ai calls get_weather`, `tool get_weather`. */
export function previewOfMessage(message: ChatMessage): string {
  if (message.role === 'tool') return `tool ${message.name ?? message.toolCallId ?? ''}${message.status === 'error' ? ' (error)' : ''}`.trim();
  if (message.role === 'remove') return `removes ${message.id ?? 'a message'}`;
  const text = message.text !== '' ? `${message.label}: ${oneLine(message.text, PREVIEW_TEXT)}` : '';
  const calls = message.toolCalls.length > 0 ? `${message.label} calls ${message.toolCalls.map((call) => call.name).join(', ')}` : '';
  if (text && calls) return `${text} · calls ${message.toolCalls.map((call) => call.name).join(', ')}`;
  return text || calls || `${message.label}: (${message.parts.map((part) => part.kind).join(', ') || 'empty'})`;
}

/** One line for the messages among some written values, or null when none of them holds messages. */
export function previewOfMessages(values: readonly unknown[]): string | null {
  const previews = values.flatMap((value) => asChatMessages(value) ?? []).map(previewOfMessage);
  return previews.length === 0 ? null : oneLine(previews.join(' · '), PREVIEW_LINE);
}

/**
 * The words of the messages in a value, for search: text, reasoning, tool names and arguments, as plain text
 * with runs of white space made one space (a search box holds one line).
 */
export function searchableMessageText(value: unknown): string {
  const messages = asChatMessages(value);
  if (!messages) return '';
  return messages
    .map((message) =>
      [
        message.text,
        ...message.parts.flatMap((part) => (part.kind === 'reasoning' ? [part.text] : [])),
        ...message.toolCalls.map((call) => `${call.name} ${JSON.stringify(call.args)}`),
      ].join(' '),
    )
    .join('\n')
    .replace(/\s+/g, ' ');
}

/** Where a value holds messages: the value itself, or some fields of an object (a graph's input, a command). */
export type FoundMessages =
  | { kind: 'messages'; messages: ChatMessage[] }
  | { kind: 'fields'; fields: [name: string, messages: ChatMessage[]][]; rest: Record<string, unknown> | null };

export function findMessages(value: unknown): FoundMessages | undefined {
  const messages = asChatMessages(value);
  if (messages) return { kind: 'messages', messages };
  if (!isRecord(value)) return undefined;
  const fields: [string, ChatMessage[]][] = [];
  const rest: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    const found = Array.isArray(field) ? asChatMessages(field) : undefined;
    if (found) fields.push([name, found]);
    else rest[name] = field;
  }
  return fields.length === 0 ? undefined : { kind: 'fields', fields, rest: Object.keys(rest).length > 0 ? rest : null };
}

/**
 * The messages of a channel on both sides of a step, when it holds messages on at least one side and a list
 * (perhaps empty) or nothing on the other; otherwise undefined.
 */
export function messageListsOf(before: unknown, after: unknown): [ChatMessage[], ChatMessage[]] | undefined {
  const listOf = (value: unknown) => (value === undefined || (Array.isArray(value) && value.length === 0) ? [] : asChatMessages(value));
  const [earlier, later] = [listOf(before), listOf(after)];
  return earlier && later && earlier.length + later.length > 0 ? [earlier, later] : undefined;
}
