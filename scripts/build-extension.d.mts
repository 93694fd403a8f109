export declare const CHROME_EXTENSION_DIR: string;
export declare const FIREFOX_EXTENSION_DIR: string;
export declare const GECKO_ID: string;
export declare function firefoxManifest(chromeManifest: Record<string, unknown>): Record<string, unknown>;
export declare function buildExtension(): Promise<void>;
