import { JsonView, darkStyles, defaultStyles } from 'react-json-view-lite';

const expandThreeLevels = (level: number) => level < 3;

/** Any value as a JSON tree: text only, never HTML. */
export function JsonTree({ value, dark }: { value: unknown; dark: boolean }) {
  return (
    <div className="juncture-json">
      {typeof value !== 'object' || value === null ? (
        <code>{JSON.stringify(value)}</code>
      ) : (
        <JsonView data={value} shouldExpandNode={expandThreeLevels} style={dark ? darkStyles : defaultStyles} />
      )}
    </div>
  );
}
