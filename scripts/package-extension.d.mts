export declare const PACKAGES_DIR: string;
export declare function zipExtensionPackages(outDir?: string): { chrome: string; firefox: string; sources: string };
