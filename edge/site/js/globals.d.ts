// Constants edge/build.mjs defines at build time (esbuild `define`).
declare const __LITERT_VERSION__: string;
declare const __PRECACHE__: { version: string; files: string[] };
