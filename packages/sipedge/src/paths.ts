import { join } from "node:path";

/** The repository's top folder (this file is packages/sipedge/src/paths.ts). */
export const REPO_ROOT = join(import.meta.dirname, "..", "..", "..");
