import pkg from "../package.json";

export const EDGE_VERSION: string = pkg.version;
