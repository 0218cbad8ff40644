/**
 * The documentation stays in sync with the code: every symbol the package
 * exports has a TSDoc comment, every public method of Tasker has one too, and
 * the README names every public method and every event.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import ts from 'typescript';
import { Tasker } from 'tasker';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

function program(): { checker: ts.TypeChecker; index: ts.SourceFile } {
  const entry = fileURLToPath(new URL('src/index.ts', root));
  const config = ts.readConfigFile(fileURLToPath(new URL('tsconfig.json', root)), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, fileURLToPath(root));
  const prog = ts.createProgram([entry], { ...parsed.options, noEmit: true });
  return { checker: prog.getTypeChecker(), index: prog.getSourceFile(entry)! };
}

function documented(symbol: ts.Symbol, checker: ts.TypeChecker): boolean {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  return target.getDocumentationComment(checker).length > 0 || ts.getJSDocTags(target.declarations?.[0] ?? ({} as ts.Node)).length > 0;
}

test('every export of the package has a TSDoc comment', { timeout: 60_000 }, () => {
  const { checker, index } = program();
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(index)!);
  assert.ok(exports.length > 30, 'the exports were found');
  const missing = exports.filter((symbol) => !documented(symbol, checker)).map((symbol) => symbol.name);
  assert.deepEqual(missing, [], `exports without TSDoc: ${missing.join(', ')}`);
});

test('every public method of Tasker has a TSDoc comment and is named in the README', { timeout: 60_000 }, () => {
  const { checker, index } = program();
  const tasker = checker.getExportsOfModule(checker.getSymbolAtLocation(index)!).find((symbol) => symbol.name === 'Tasker')!;
  const cls = checker.getAliasedSymbol(tasker);
  const methods = Object.getOwnPropertyNames(Tasker.prototype).filter((name) => name !== 'constructor');
  const undocumented = methods.filter((name) => {
    const member = cls.members?.get(ts.escapeLeadingUnderscores(name));
    return member === undefined || !member.declarations?.some((d) => ts.getJSDocCommentsAndTags(d).length > 0);
  });
  assert.deepEqual(undocumented, [], `methods without TSDoc: ${undocumented.join(', ')}`);
  const absent = methods.filter((name) => !readme.includes(`${name}(`));
  assert.deepEqual(absent, [], `methods the README does not name: ${absent.join(', ')}`);
});

test('every event of TaskerEvents is in the README', () => {
  const source = readFileSync(new URL('src/events.ts', root), 'utf8');
  const plain = [...source.matchAll(/^\s+'?([a-z.]+)'?: \[/gm)].map((m) => m[1]!);
  const perTask = [...source.matchAll(/`task\.\$\{string\}\.([a-z]+)`/g)].map((m) => `task.<uuid>.${m[1]!}`);
  assert.ok(plain.length > 10 && perTask.length > 5, 'the events were found');
  const absent = [...plain, ...perTask].filter((name) => !readme.includes(`\`${name}\``));
  assert.deepEqual(absent, [], `events the README does not name: ${absent.join(', ')}`);
});
