// The fault kinds each fake declares, read from the `Fault` union in its source: the "covers every
// fault" test compares them with the kinds the schedules generate, so a kind added to a fake without
// an arbitrary here fails that test (and `tsc -b` too, through the `Record<FaultKind, …>` tables).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const TESTKIT = join(__dirname, '..', '..', '..', 'packages', 'testkit', 'src');

/** The faults files of the two fakes. */
export const FAULT_SOURCES = {
  oilprice: join(TESTKIT, 'fake-oilprice', 'faults.ts'),
  posthog: join(TESTKIT, 'fake-posthog', 'faults.ts'),
} as const;

/** The `kind` literals of every member of the exported `Fault` union in `file`. */
export function faultKindsDeclaredIn(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const alias = source.statements.find(
    (statement): statement is ts.TypeAliasDeclaration =>
      ts.isTypeAliasDeclaration(statement) && statement.name.text === 'Fault',
  );
  if (alias === undefined) throw new Error(`no \`type Fault\` in ${file}`);
  const members = ts.isUnionTypeNode(alias.type) ? alias.type.types : [alias.type];
  return members.map((member) => {
    const kind = ts.isTypeLiteralNode(member)
      ? member.members.find(
          (m): m is ts.PropertySignature => ts.isPropertySignature(m) && m.name.getText(source) === 'kind',
        )
      : undefined;
    const literal = kind?.type !== undefined && ts.isLiteralTypeNode(kind.type) ? kind.type.literal : undefined;
    if (literal === undefined || !ts.isStringLiteral(literal)) {
      throw new Error(`a member of \`Fault\` in ${file} has no literal \`kind\`: ${member.getText(source)}`);
    }
    return literal.text;
  });
}
