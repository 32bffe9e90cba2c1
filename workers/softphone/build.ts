import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

/**
 * Bundles the softphone for the browser (esbuild: app.ts with JsSIP and its
 * dependencies → one minified ES module; softphone.css → minified CSS) into
 * `workers/softphone/dist/`, as `.txt` files the Worker imports as text
 * modules (workers/src/http/softphone.ts):
 *
 *   dist/softphone.js.txt    served as /softphone.js
 *   dist/softphone.css.txt   served as /softphone.css
 *
 * `.txt` because both bundlers treat it as text with no configuration of
 * their own: wrangler's default module rules (`**\/*.txt` → Text) and the
 * local stack's esbuild (`loader: { ".txt": "text" }`). Run by wrangler.toml
 * `[build] command` before `wrangler deploy`/`dev`, and by the local stack
 * (packages/sipedge/src/stack/edge.ts) before it bundles the Worker.
 * index.html is imported straight from source (`.html` is Text for both).
 */
export const SOFTPHONE_DIR = dirname(fileURLToPath(import.meta.url));
export const SOFTPHONE_DIST = join(SOFTPHONE_DIR, "dist");

/**
 * JsSIP reads its own package.json for `title` and `version`; the rest of
 * that file (homepage, repository and bug-tracker URLs) has no business in
 * the page. Give it just the two fields.
 */
const jssipPackageJson: Plugin = {
  name: "jssip-package-json",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/package\.json$/ }, (args) =>
      /[\\/]jssip[\\/]lib[\\/]/.test(args.importer) ? { path: join(args.resolveDir, "..", "package.json"), namespace: "jssip-package-json" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "jssip-package-json" }, async (args) => {
      const { readFile } = await import("node:fs/promises");
      const pkg = JSON.parse(await readFile(args.path, "utf8")) as { title: string; version: string };
      return { contents: JSON.stringify({ title: pkg.title, version: pkg.version }), loader: "json" };
    });
  },
};

export async function buildSoftphone(outDir: string = SOFTPHONE_DIST): Promise<{ js: string; css: string }> {
  mkdirSync(outDir, { recursive: true });
  const [js, css] = await Promise.all([
    build({
      entryPoints: [join(SOFTPHONE_DIR, "app.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      // Chromium, Firefox and Safari of the last few years: WebRTC is the floor anyway.
      target: ["es2022"],
      minify: true,
      // JsSIP's `debug` reads process.env.DEBUG when it thinks it is in Node.
      define: { "process.env.NODE_ENV": '"production"', "process.env.DEBUG": "undefined" },
      legalComments: "eof",
      plugins: [jssipPackageJson],
      write: false,
      logLevel: "warning",
    }),
    build({ entryPoints: [join(SOFTPHONE_DIR, "softphone.css")], bundle: true, minify: true, write: false, logLevel: "warning" }),
  ]);
  const jsText = js.outputFiles[0]!.text;
  const cssText = css.outputFiles[0]!.text;
  // Written to a temporary name, then renamed: a concurrent build (npm start
  // and the tests) never leaves a half-written file for the Worker bundler.
  const write = (name: string, text: string): void => {
    const tmp = join(outDir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(outDir, name));
  };
  write("softphone.js.txt", jsText);
  write("softphone.css.txt", cssText);
  return { js: jsText, css: cssText };
}

// `node --import tsx workers/softphone/build.ts` (wrangler.toml [build]).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { js, css } = await buildSoftphone();
  process.stdout.write(`softphone: ${SOFTPHONE_DIST} (js ${(js.length / 1024).toFixed(0)} KiB, css ${(css.length / 1024).toFixed(1)} KiB)\n`);
}
