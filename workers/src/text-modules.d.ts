// Files the Worker bundles as text (wrangler's default module rules: `.txt`
// and `.html` are Text; the local stack's esbuild loads them with its "text"
// loader, packages/sipedge/src/stack/edge.ts). The softphone's are built by
// workers/softphone/build.ts.
declare module "*.txt" {
  const text: string;
  export default text;
}

declare module "*.html" {
  const text: string;
  export default text;
}
