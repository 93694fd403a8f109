export declare function findExecutable(envVar: string, candidates: readonly string[]): string | undefined;
