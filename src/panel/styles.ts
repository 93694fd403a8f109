/** The panel's one stylesheet, for the extension page and for the in-page panel's shadow root. */
export const PANEL_CSS = `
.juncture-panel {
  --bg: #ffffff; --bg-alt: #f3f4f6; --fg: #1f2328; --muted: #6b7280; --border: #d0d7de;
  --accent: #0969da; --accent-bg: #ddf4ff; --ancestry: #8250df; --error: #cf222e; --error-bg: #ffebe9;
  --interrupt: #9a6700; --interrupt-bg: #fff8c5; --add: #1a7f37; --remove: #cf222e; --hit: #fff8c5;
  --human: #0969da; --ai: #8250df; --tool: #1a7f37; --system: #6b7280;
  --lane-0: #0969da; --lane-1: #bf3989; --lane-2: #1a7f37; --lane-3: #bc4c00; --lane-4: #8250df;
  font: 12px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg);
  display: grid; grid-template-columns: 220px minmax(280px, 1fr) minmax(320px, 1.2fr);
  grid-template-rows: auto 1fr; height: 100%; min-height: 0; box-sizing: border-box;
}
.juncture-panel[data-theme="dark"] {
  --bg: #1e1e1e; --bg-alt: #262626; --fg: #e6e6e6; --muted: #9aa0a6; --border: #3c3c3c;
  --accent: #4ea1ff; --accent-bg: #12324f; --ancestry: #c297ff; --error: #ff7b72; --error-bg: #3d1c1c;
  --interrupt: #e3b341; --interrupt-bg: #3a2f12; --add: #56d364; --remove: #ff7b72; --hit: #4d3f12;
  --human: #4ea1ff; --ai: #c297ff; --tool: #56d364; --system: #9aa0a6;
  --lane-0: #4ea1ff; --lane-1: #ff7eb6; --lane-2: #56d364; --lane-3: #ffa657; --lane-4: #c297ff;
}
.juncture-panel * { box-sizing: border-box; }
.juncture-panel button { font: inherit; color: inherit; background: var(--bg-alt); border: 1px solid var(--border); border-radius: 4px; padding: 2px 8px; cursor: pointer; }
.juncture-panel button[aria-pressed="true"] { background: var(--accent-bg); border-color: var(--accent); }
.juncture-panel input, .juncture-panel select, .juncture-panel textarea { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--border); border-radius: 4px; padding: 2px 6px; }
.juncture-toolbar { grid-column: 1 / -1; display: flex; gap: 8px; align-items: center; padding: 6px 8px; border-bottom: 1px solid var(--border); flex-wrap: wrap; }
.juncture-toolbar .grow { flex: 1; }
.juncture-sidebar { border-right: 1px solid var(--border); overflow: auto; padding: 6px; display: flex; flex-direction: column; gap: 6px; min-height: 0; }
.juncture-sidebar h2, .juncture-detail h2 { font-size: 11px; text-transform: uppercase; color: var(--muted); margin: 6px 0 2px; }
.juncture-list { list-style: none; margin: 0; padding: 0; }
.juncture-list button { width: 100%; text-align: left; border: none; background: none; padding: 4px 6px; display: block; }
.juncture-list button[aria-pressed="true"] { background: var(--accent-bg); }
.juncture-list .meta { color: var(--muted); font-size: 11px; }
.juncture-timeline { overflow: auto; min-height: 0; outline: none; position: relative; }
.juncture-timeline:focus-visible { box-shadow: inset 0 0 0 2px var(--accent); }
.juncture-row { position: absolute; left: 0; right: 0; display: flex; align-items: center; gap: 6px; padding-right: 8px; cursor: pointer; white-space: nowrap; border-bottom: 1px solid transparent; }
.juncture-row[aria-selected="true"] { background: var(--accent-bg); }
.juncture-row.ancestry .label { color: var(--ancestry); }
.juncture-row.hit { background: var(--hit); }
.juncture-row .step { color: var(--muted); min-width: 34px; text-align: right; }
.juncture-row .source { font-weight: 600; }
.juncture-row .nodes { overflow: hidden; text-overflow: ellipsis; flex: none; max-width: 30%; }
.juncture-row .preview { overflow: hidden; text-overflow: ellipsis; color: var(--muted); min-width: 0; flex: 1; }
.juncture-row .pause { color: var(--interrupt); background: var(--interrupt-bg); border-radius: 3px; padding: 0 4px; flex: none; }
.juncture-row .fork-next { color: var(--muted); border: 1px dashed var(--border); border-radius: 3px; padding: 0 4px; flex: none; }
.juncture-row .took { color: var(--muted); margin-left: auto; font-variant-numeric: tabular-nums; }
.juncture-row .time { color: var(--muted); }
.juncture-detail { border-left: 1px solid var(--border); overflow: auto; padding: 6px 10px; min-height: 0; }
.juncture-detail-title { margin: 4px 0 8px; }
.juncture-detail-title .meta { color: var(--muted); font-size: 11px; margin-top: 2px; }
.juncture-tabs { display: flex; gap: 4px; margin-bottom: 6px; }
.juncture-views { display: flex; gap: 4px; }
.juncture-items { overflow: auto; min-height: 0; }
.juncture-channel { border-bottom: 1px solid var(--border); padding: 4px 0; }
.juncture-channel header { display: flex; gap: 8px; align-items: baseline; }
.juncture-channel .size { color: var(--muted); font-size: 11px; }
.juncture-encrypted { color: var(--muted); font-style: italic; }
.juncture-diff { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-all; margin: 0; }
.juncture-diff .add { color: var(--add); }
.juncture-diff .remove { color: var(--remove); }
.juncture-diff .replace, .juncture-diff .move { color: var(--interrupt); }
.juncture-task { border: 1px solid var(--border); border-radius: 4px; margin: 4px 0; padding: 4px 6px; }
.juncture-task.error { border-color: var(--error); background: var(--error-bg); }
.juncture-task.interrupt { border-color: var(--interrupt); background: var(--interrupt-bg); }
.juncture-empty { color: var(--muted); padding: 12px; }
.juncture-alert { color: var(--error); padding: 4px 8px; grid-column: 1 / -1; }
.juncture-json { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 11px; }
.juncture-json ul { margin: 0; padding-left: 14px; list-style: none; }
.juncture-transcript { list-style: none; margin: 4px 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
.juncture-message { --role: var(--system); border: 1px solid var(--border); border-left: 3px solid var(--role); border-radius: 4px; padding: 3px 6px; background: var(--bg); }
.juncture-message.role-human { --role: var(--human); }
.juncture-message.role-ai { --role: var(--ai); }
.juncture-message.role-tool { --role: var(--tool); }
.juncture-message.error { --role: var(--error); background: var(--error-bg); }
.juncture-message.added { box-shadow: inset 0 0 0 1px var(--add); }
.juncture-message.removed { opacity: 0.75; box-shadow: inset 0 0 0 1px var(--remove); }
.juncture-message.replaced { box-shadow: inset 0 0 0 1px var(--interrupt); }
.juncture-message > header { display: flex; gap: 6px; align-items: baseline; flex-wrap: wrap; font-size: 11px; }
.juncture-message .role { font-weight: 700; color: var(--role); text-transform: uppercase; }
.juncture-message .change { font-weight: 600; }
.juncture-message.added .change { color: var(--add); }
.juncture-message.removed .change { color: var(--remove); }
.juncture-message.replaced .change { color: var(--interrupt); }
.juncture-message .status { color: var(--error); font-weight: 600; }
.juncture-message .grow { flex: 1; }
.juncture-message .id, .juncture-message .usage, .juncture-message .answers, .juncture-tool-call .id { color: var(--muted); }
.juncture-message header button { padding: 0 4px; font-size: 10px; }
.juncture-message .text { margin: 2px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.juncture-message .part, .juncture-field { margin: 2px 0; overflow-wrap: anywhere; }
.juncture-message .kind, .juncture-field > .kind { color: var(--muted); font-size: 11px; margin-right: 4px; }
.juncture-message .part-image { display: block; max-height: 96px; max-width: 96px; min-width: 24px; min-height: 24px; image-rendering: pixelated; border: 1px solid var(--border); margin: 2px 0; }
.juncture-message .reasoning summary, .juncture-message .before summary { color: var(--muted); cursor: pointer; font-size: 11px; }
.juncture-tool-call { border: 1px dashed var(--border); border-radius: 4px; padding: 2px 6px; margin: 3px 0; }
.juncture-tool-call.error { border-color: var(--error); }
.juncture-tool-call .head { font-size: 11px; }
.juncture-graph { display: flex; flex-direction: column; gap: 6px; }
.juncture-graph-note { margin: 0; padding: 4px 6px; border: 1px dashed var(--border); border-radius: 4px; color: var(--muted); }
.juncture-graph-legend span { display: inline-block; padding: 0 6px; border-radius: 3px; border: 1px solid var(--border); font-size: 11px; }
.juncture-graph-legend .ran { border-color: var(--ancestry); }
.juncture-graph-legend .next { border-color: var(--accent); background: var(--accent-bg); }
.juncture-graph-legend .interrupt { border-color: var(--interrupt); background: var(--interrupt-bg); }
.juncture-graph-legend .conditional { border-style: dashed; }
.juncture-graph-drawing { max-width: 100%; height: auto; overflow: visible; }
.juncture-graph-drawing text { font: 12px system-ui, sans-serif; fill: var(--fg); }
.juncture-graph-cluster rect { fill: var(--bg-alt); stroke: var(--border); }
.juncture-graph-cluster text { fill: var(--muted); font-size: 11px; }
.juncture-graph-cluster.ran rect { stroke: var(--ancestry); stroke-width: 3; }
.juncture-graph-cluster.next rect { stroke: var(--accent); stroke-width: 3; }
.juncture-graph-cluster.interrupt rect { stroke: var(--interrupt); stroke-width: 3; }
.juncture-graph-edge { fill: none; stroke: var(--muted); stroke-width: 1.5; }
.juncture-graph-arrow { fill: var(--muted); }
.juncture-graph-edge-label { fill: var(--muted); font-size: 10px; }
.juncture-graph-node rect { fill: var(--bg); stroke: var(--border); stroke-width: 1.5; }
.juncture-graph-node.terminal rect { fill: var(--bg-alt); }
.juncture-graph-node.ran rect { stroke: var(--ancestry); stroke-width: 3; }
.juncture-graph-node.next rect { stroke: var(--accent); fill: var(--accent-bg); stroke-width: 3; }
.juncture-graph-node.interrupt rect { stroke: var(--interrupt); fill: var(--interrupt-bg); stroke-width: 3; }
.juncture-graph-breakpoint { fill: var(--error); }
.juncture-breakpoints, .juncture-timing { border-collapse: collapse; }
.juncture-breakpoints caption, .juncture-timing caption { text-align: left; color: var(--muted); padding: 2px 0; }
.juncture-breakpoints th, .juncture-breakpoints td, .juncture-timing th, .juncture-timing td { border-bottom: 1px solid var(--border); padding: 2px 8px; text-align: left; }
.juncture-timing td:not(:first-child) { font-variant-numeric: tabular-nums; }
.juncture-tool-call .tool-name { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
`;
