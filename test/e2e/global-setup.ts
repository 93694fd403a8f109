// The packaging and extension tests load what `npm run build` makes: the library and the extension in dist/.
import { build } from 'vite';
import { buildExtension } from '../../scripts/build-extension.mjs';

export default async function buildLibraryAndExtension(): Promise<void> {
  await build({ configFile: 'vite.config.ts', logLevel: 'warn' });
  await buildExtension();
}
