import { createContext, useContext, useState } from 'react';
import type { ChatMessage, ContentPart, FoundMessages, MessageChanges, ToolCall } from '../devtools/messages.js';
import { JsonTree } from './JsonTree.js';

/** The tool calls of the checkpoint on screen, so that a tool result shown alone can name the call it answers. */
export const KnownToolCalls = createContext<ReadonlyMap<string, ToolCall>>(new Map());

/** Images the panel draws itself: raster `data:` URLs only, so showing a message never fetches anything. */
const DRAWN_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,/i;

function Part({ part, dark }: { part: ContentPart; dark: boolean }) {
  switch (part.kind) {
    case 'text':
      return <p className="text">{part.text}</p>;
    case 'reasoning':
      return (
        <details className="reasoning">
          <summary>reasoning</summary>
          <p className="text">{part.text}</p>
        </details>
      );
    case 'image':
      return part.url && DRAWN_IMAGE.test(part.url) ? (
        <img className="part-image" src={part.url} alt={`image${part.mimeType ? ` (${part.mimeType})` : ''}`} />
      ) : (
        <p className="part">
          <span className="kind">image</span> {part.url ?? part.mimeType ?? ''}
        </p>
      );
    case 'other':
      return (
        <div className="part">
          <span className="kind">{part.type}</span>
          <JsonTree value={part.value} dark={dark} />
        </div>
      );
  }
}

function ToolCallView({ call, result, dark }: { call: ToolCall; result: ChatMessage | undefined; dark: boolean }) {
  return (
    <div className={`juncture-tool-call${call.error ? ' error' : ''}`} aria-label={`tool call ${call.name}`}>
      <div className="head">
        <span className="kind">calls</span> <strong className="tool-name">{call.name}</strong> {call.id && <span className="id">{call.id}</span>}
        {call.error && <span className="status">{call.error}</span>}
      </div>
      <JsonTree value={call.args} dark={dark} />
      {result && <MessageCard message={result} dark={dark} />}
    </div>
  );
}

export type MessageChange = 'added' | 'replaced' | 'removed';

interface MessageCardProps {
  message: ChatMessage;
  dark: boolean;
  /** Tool results by the id of the call they answer, shown under their calls. */
  results?: ReadonlyMap<string, ChatMessage>;
  change?: MessageChange;
  /** What a replaced message was. */
  before?: ChatMessage;
}

/** One message: its role, name, id and usage, its text and other parts, its tool calls with their results. */
export function MessageCard({ message, dark, results, change, before }: MessageCardProps) {
  const [raw, setRaw] = useState(false);
  const answered = useContext(KnownToolCalls).get(message.toolCallId ?? '');
  const { usage } = message;
  return (
    <article className={`juncture-message role-${message.role}${message.status === 'error' ? ' error' : ''}${change ? ` ${change}` : ''}`} aria-label={`${message.label} message`}>
      <header>
        <span className="role">{message.label}</span>
        {change && <span className="change">{change}</span>}
        {message.name && <span className="name">{message.name}</span>}
        {message.role === 'tool' && message.toolCallId && (
          <span className="answers" title="The tool call this result answers">
            answers {answered && answered.name !== message.name ? `${answered.name} ` : ''}
            {message.toolCallId}
          </span>
        )}
        {message.status === 'error' && <span className="status">error</span>}
        <span className="grow" />
        {usage && (
          <span className="usage" title="Tokens: input, output, total">
            {usage.input ?? '?'} in · {usage.output ?? '?'} out · {usage.total ?? '?'} tokens
          </span>
        )}
        {message.id && (
          <span className="id" title="Message id">
            {message.id}
          </span>
        )}
        <button aria-pressed={raw} onClick={() => setRaw(!raw)} title="This message as stored">
          JSON
        </button>
      </header>
      {raw ? (
        <JsonTree value={message.raw} dark={dark} />
      ) : (
        <>
          {message.parts.map((part, i) => (
            <Part key={i} part={part} dark={dark} />
          ))}
          {message.toolCalls.map((call, i) => (
            <ToolCallView key={call.id ?? i} call={call} result={call.id === null ? undefined : results?.get(call.id)} dark={dark} />
          ))}
        </>
      )}
      {before && (
        <details className="before">
          <summary>before</summary>
          <MessageCard message={before} dark={dark} />
        </details>
      )}
    </article>
  );
}

/** A conversation: each tool result sits under the call it answers; results whose call is elsewhere stand alone. */
export function Transcript({ messages, dark }: { messages: readonly ChatMessage[]; dark: boolean }) {
  const callIds = new Set(messages.flatMap((message) => message.toolCalls.map((call) => call.id)));
  const results = new Map<string, ChatMessage>();
  for (const message of messages) {
    if (message.role === 'tool' && message.toolCallId !== null && callIds.has(message.toolCallId) && !results.has(message.toolCallId)) {
      results.set(message.toolCallId, message);
    }
  }
  const nested = new Set(results.values());
  return (
    <ol className="juncture-transcript" aria-label="Transcript">
      {messages.map((message, i) =>
        nested.has(message) ? null : (
          <li key={`${message.id ?? ''}-${i}`}>
            <MessageCard message={message} results={results} dark={dark} />
          </li>
        ),
      )}
    </ol>
  );
}

/** The messages found in a value: the transcript, or for an object each field of messages and the rest as JSON. */
export function MessagesInValue({ found, dark }: { found: FoundMessages; dark: boolean }) {
  if (found.kind === 'messages') return <Transcript messages={found.messages} dark={dark} />;
  return (
    <>
      {found.fields.map(([name, messages]) => (
        <div key={name} className="juncture-field">
          <span className="kind">{name}</span>
          <Transcript messages={messages} dark={dark} />
        </div>
      ))}
      {found.rest && <JsonTree value={found.rest} dark={dark} />}
    </>
  );
}

/** What a step did to a channel of messages, each message drawn in full. */
export function MessageListChanges({ channel, changes, dark }: { channel: string; changes: MessageChanges; dark: boolean }) {
  const { added, replaced, removed } = changes;
  const summary = (
    [
      [added.length, 'added'],
      [replaced.length, 'replaced'],
      [removed.length, 'removed'],
    ] as const
  )
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`);
  return (
    <section className="juncture-channel" aria-label={`${channel} changes`}>
      <header>
        <strong>{channel}</strong>
        <span className="size">{summary.join(', ')}</span>
      </header>
      <ol className="juncture-transcript">
        {added.map((message, i) => (
          <li key={`a${i}`}>
            <MessageCard message={message} change="added" dark={dark} />
          </li>
        ))}
        {replaced.map(({ before, after }, i) => (
          <li key={`r${i}`}>
            <MessageCard message={after} before={before} change="replaced" dark={dark} />
          </li>
        ))}
        {removed.map((message, i) => (
          <li key={`d${i}`}>
            <MessageCard message={message} change="removed" dark={dark} />
          </li>
        ))}
      </ol>
    </section>
  );
}
