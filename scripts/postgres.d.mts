export declare function findPostgresBin(): string | undefined;
