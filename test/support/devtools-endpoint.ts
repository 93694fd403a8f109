// Chromium started with `--remote-debugging-port=0` prints the WebSocket address it listens on to stderr.
import type { ChildProcess } from 'node:child_process';

/** Resolves to the DevTools endpoint `child` prints; rejects with its output if it exits first or `timeoutMs` passes. */
export function waitForDevtoolsEndpoint(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolveEndpoint, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${output}`)), timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/DevTools listening on (ws:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolveEndpoint(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it listened:\n${output}`));
    });
  });
}
