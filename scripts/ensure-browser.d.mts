export declare function ensureChromium(command: string): string;
export declare function ensureFirefox(command: string): string;
export declare function ensureWebKit(command: string): { browser: string; driver: string; xvfb: string };
export declare function ensurePostgres(command: string): string;
export declare function ensureXvfbRun(command: string): string;
