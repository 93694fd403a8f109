export declare const FIREFOX_PREFS: Record<string, boolean>;
export declare function findFirefox(): string | undefined;
