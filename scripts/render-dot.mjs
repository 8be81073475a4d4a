// Render Graphviz DOT (stdin) to SVG (stdout) offline, with Graphviz compiled to WebAssembly
// (@hpcc-js/wasm-graphviz, pinned in package.json). Used by `fmops diagram` / `make diagram`.
//   node scripts/render-dot.mjs < docs/architecture.dot > docs/architecture.svg
//   node scripts/render-dot.mjs --version     prints the Graphviz version
import { Graphviz } from "@hpcc-js/wasm-graphviz";

const graphviz = await Graphviz.load();
if (process.argv.includes("--version")) {
  process.stdout.write(graphviz.version() + "\n");
} else {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const dot = Buffer.concat(chunks).toString("utf8");
  try {
    process.stdout.write(graphviz.dot(dot, "svg"));
  } catch (error) {
    process.stderr.write(`render-dot: ${error.message ?? error}\n`);
    process.exit(1);
  }
}
