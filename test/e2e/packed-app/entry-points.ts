// Type-checked, never run: every entry point of the installed package resolves to its declarations.
import { CheckpointError, WorkerSaver, type CheckpointErrorCode } from 'juncture-browser';
import 'juncture-browser/worker';
import { connectDevtools } from 'juncture-browser/devtools';
import type { MountDevtoolsPanelOptions, MountedDevtoolsPanel } from 'juncture-browser/panel';
import { startSync, type SyncController } from 'juncture-browser/sync';
import { createSyncHandler, type PullResponse, type SyncHandlerOptions } from 'juncture-browser/server';

export const closedCode: CheckpointErrorCode = 'CLOSED';
export const isClosed = (error: unknown): boolean => CheckpointError.is(error, closedCode);

// The declarations are real types, not `any`: a misspelt option is an error.
// @ts-expect-error `acknowledge` is not an option (it is `ack`)
export const misspelt = new WorkerSaver({ acknowledge: 'queued' });

export function inspect(saver: WorkerSaver, mount: (options: MountDevtoolsPanelOptions) => MountedDevtoolsPanel): () => void {
  const panel = mount({ saver });
  panel.open();
  const disconnect = connectDevtools(saver);
  return () => {
    disconnect();
    panel.unmount();
  };
}

export function syncLive(saver: WorkerSaver): SyncController {
  // @ts-expect-error `live` is a boolean
  startSync(saver, { url: '/sync', live: 'yes' });
  return startSync(saver, { url: '/sync', threads: 'all', live: true });
}

export function syncServer(options: SyncHandlerOptions): (request: Request) => Promise<PullResponse | undefined> {
  const handler = createSyncHandler(options);
  return async (request) => {
    const response = await handler(request);
    return response.ok ? ((await response.json()) as PullResponse) : undefined;
  };
}
