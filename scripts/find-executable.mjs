// Finds a browser executable: the path an environment variable names, else the first of the usual places.
import { existsSync } from 'node:fs';

/** The path in `envVar` when it is set (it must exist), else the first of `candidates` that exists, else undefined. */
export function findExecutable(envVar, candidates) {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${envVar} is set to ${fromEnv}, which does not exist.`);
    return fromEnv;
  }
  return candidates.find((candidate) => existsSync(candidate));
}
