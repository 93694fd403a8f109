// The packaging tests load the library as an app installs it: from dist/. Build it first.
import { build } from 'vite';

export default async function buildLibrary(): Promise<void> {
  await build({ configFile: 'vite.config.ts', logLevel: 'warn' });
}
