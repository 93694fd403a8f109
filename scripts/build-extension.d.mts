export declare function buildExtension(): Promise<void>;
