export declare function findWebKit(): { browser: string; driver: string; xvfb: string } | undefined;
