import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface FoundPattern {
  file: string;
  line: number;
  source: string;
  flags: string;
}

export interface DynamicPattern {
  file: string;
  line: number;
  text: string;
}

const SKIP_DIRS = new Set(['node_modules', 'generated', '.tools']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (name.endsWith('.ts') && !/\.(test|bench|d)\.ts$/.test(name)) out.push(full);
  }
  return out;
}

/**
 * Every regular expression of the shipped code: the literals, and the
 * `new RegExp(...)` / `RegExp(...)` calls (whose pattern is only known when
 * it is a string literal).
 */
export function collectPatterns(roots: string[]): { literals: FoundPattern[]; dynamic: DynamicPattern[] } {
  const literals: FoundPattern[] = [];
  const dynamic: DynamicPattern[] = [];
  for (const file of roots.flatMap(sourceFiles)) {
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2023, true);
    const lineOf = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    const visit = (node: ts.Node): void => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const raw = node.getText(sf);
        const end = raw.lastIndexOf('/');
        literals.push({ file, line: lineOf(node), source: raw.slice(1, end), flags: raw.slice(end + 1) });
      } else if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === 'RegExp') {
        const [first, second] = node.arguments ?? [];
        if (first && ts.isStringLiteralLike(first)) {
          const flags = second && ts.isStringLiteralLike(second) ? second.text : '';
          literals.push({ file, line: lineOf(node), source: first.text, flags });
        } else {
          dynamic.push({ file, line: lineOf(node), text: node.getText(sf) });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { literals, dynamic };
}
