#!/usr/bin/env node
// Syntax-only check of the Bicep files, for machines without the Bicep CLI.
//
//   node tools/bicep-check.mjs [file-or-directory ...]     (default: infra/ at the repository root)
//
// Parses every *.bicep file with the tree-sitter Bicep grammar (npm: web-tree-sitter 0.24.7 +
// tree-sitter-bicep 1.1.0, installed by `npm ci` in tools/), prints one line per file and exits 1
// when any tree holds an ERROR or MISSING node, printing file:line:col for each of them.
// Exit 2 means the checker itself could not run (no files, grammar missing...).
//
// This catches syntax errors only: no type checking, no resource schemas, no module resolution.
// `az bicep build --file infra/main.bicep` (or `azd provision --preview`) stays the real check.

import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Parser from 'web-tree-sitter';

const toolsDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(toolsDir, '..');
const grammarPath = join(toolsDir, 'node_modules', 'tree-sitter-bicep', 'tree-sitter-bicep.wasm');

function collect(path, out) {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path).sort()) {
      if (entry === 'node_modules' || entry.startsWith('.')) continue;
      collect(join(path, entry), out);
    }
  } else if (path.endsWith('.bicep')) {
    out.push(path);
  }
  return out;
}

/** Every ERROR or MISSING node under `node`, outermost first; children of an ERROR node are not repeated. */
function problems(node, out) {
  if (node.isError || node.isMissing) {
    out.push(node);
    if (node.isError) return out;
  }
  if (!node.hasError) return out;
  for (const child of node.children) problems(child, out);
  return out;
}

function describe(node, source) {
  if (node.isMissing) return `missing ${JSON.stringify(node.type)}`;
  const text = source.slice(node.startIndex, Math.min(node.endIndex, node.startIndex + 40)).replace(/\s+/g, ' ');
  return `syntax error near ${JSON.stringify(text)}`;
}

async function main() {
  const args = process.argv.slice(2);
  const roots = args.length > 0 ? args.map((a) => resolve(a)) : [join(repoRoot, 'infra')];
  for (const root of roots) {
    if (!existsSync(root)) {
      console.error(`bicep-check: ${root} does not exist`);
      return 2;
    }
  }
  if (!existsSync(grammarPath)) {
    console.error(`bicep-check: grammar not found at ${grammarPath}; run "npm ci" in tools/`);
    return 2;
  }
  const files = roots.flatMap((root) => collect(root, []));
  if (files.length === 0) {
    console.error(`bicep-check: no .bicep files under ${roots.join(', ')}`);
    return 2;
  }

  await Parser.init();
  const language = await Parser.Language.load(grammarPath);
  const parser = new Parser();
  parser.setLanguage(language);

  let failed = 0;
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const tree = parser.parse(source);
    const found = problems(tree.rootNode, []);
    const name = relative(process.cwd(), file) || file;
    if (found.length === 0) {
      console.log(`ok    ${name}`);
    } else {
      failed++;
      console.log(`FAIL  ${name} (${found.length} problem${found.length === 1 ? '' : 's'})`);
      for (const node of found) {
        const { row, column } = node.startPosition;
        console.log(`  ${name}:${row + 1}:${column + 1}: ${describe(node, source)}`);
      }
    }
    tree.delete();
  }
  parser.delete();
  console.log(`bicep-check: ${files.length} file(s), ${failed} with syntax errors`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bicep-check: ${err?.stack ?? err}`);
    process.exit(2);
  },
);
