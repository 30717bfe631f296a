/**
 * A small HogQL interpreter for the fake query API, over the events the fake received and its persons.
 *
 * It understands `SELECT expr [AS alias], … FROM events|persons [WHERE a op b [AND …]] [GROUP BY …]
 * [ORDER BY … [ASC|DESC]] [LIMIT n] [OFFSET n]`, where an expression is a column (`event`,
 * `distinct_id`, `uuid`, `timestamp`, `properties`, `properties.$browser`, `person_id`; for persons
 * `id`, `created_at`, `is_identified`, `properties.x`), a literal, or `count()`. That covers what the
 * driver's tests and examples ask; anything else is answered with the 400 a real HogQL error gets.
 * The answer has the real shape: `results` rows, `columns`, `types` as `[name, ClickHouseType]` pairs,
 * `hasMore` when a limit (100 by default, at most 50,000) cut rows off.
 *
 * @module
 */

/** A HogQL error: the query API answers it with a 400 `validation_error`. */
export class HogQLError extends Error {}

type Token = { readonly kind: 'word' | 'string' | 'number' | 'symbol'; readonly text: string; readonly at: number };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      let text = '';
      i++;
      while (i < query.length && query[i] !== "'") {
        if (query[i] === '\\' && i + 1 < query.length) i++;
        text += query[i];
        i++;
      }
      if (i >= query.length) throw new HogQLError(`Syntax error at line 1, column ${start}: unterminated string`);
      i++;
      tokens.push({ kind: 'string', text, at: start });
    } else if (/[0-9]/.test(c)) {
      while (i < query.length && /[0-9.]/.test(query[i] as string)) i++;
      tokens.push({ kind: 'number', text: query.slice(start, i), at: start });
    } else if (/[A-Za-z_$]/.test(c)) {
      while (i < query.length && /[A-Za-z0-9_$.]/.test(query[i] as string)) i++;
      tokens.push({ kind: 'word', text: query.slice(start, i), at: start });
    } else if (c === '`' || c === '"') {
      const end = query.indexOf(c, i + 1);
      if (end < 0) throw new HogQLError(`Syntax error at line 1, column ${start}: unterminated identifier`);
      tokens.push({ kind: 'word', text: query.slice(i + 1, end), at: start });
      i = end + 1;
    } else {
      const two = query.slice(i, i + 2);
      if (two === '!=' || two === '<=' || two === '>=' || two === '<>') {
        tokens.push({ kind: 'symbol', text: two === '<>' ? '!=' : two, at: start });
        i += 2;
      } else if ('(),*=<>'.includes(c)) {
        tokens.push({ kind: 'symbol', text: c, at: start });
        i++;
      } else {
        throw new HogQLError(`Syntax error at line 1, column ${start}: unexpected '${c}'`);
      }
    }
  }
  return tokens;
}

type Expr =
  | { readonly kind: 'column'; readonly name: string }
  | { readonly kind: 'literal'; readonly value: string | number }
  | { readonly kind: 'count' };

interface SelectItem {
  readonly expr: Expr;
  readonly name: string;
}

interface Condition {
  readonly left: Expr;
  readonly op: string;
  readonly right: Expr;
}

interface Query {
  readonly select: readonly SelectItem[];
  readonly table: string;
  readonly where: readonly Condition[];
  readonly groupBy: readonly Expr[];
  readonly orderBy: readonly { readonly name: string; readonly desc: boolean }[];
  readonly limit: number | undefined;
  readonly offset: number;
}

const KEYWORDS = new Set([
  'select',
  'from',
  'where',
  'and',
  'group',
  'by',
  'order',
  'limit',
  'offset',
  'as',
  'asc',
  'desc',
]);

class Parser {
  private i = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private isWord(word: string): boolean {
    const token = this.peek();
    return token?.kind === 'word' && token.text.toLowerCase() === word;
  }

  private expectWord(word: string): void {
    if (!this.isWord(word)) this.fail(`expected ${word.toUpperCase()}`);
    this.i++;
  }

  private fail(what: string): never {
    const token = this.peek();
    throw new HogQLError(
      token === undefined
        ? `Syntax error at line 1: ${what}, got end of input`
        : `Syntax error at line 1, column ${token.at}: ${what}, got '${token.text}'`,
    );
  }

  private expr(): Expr {
    const token = this.peek();
    if (token === undefined) return this.fail('expected an expression');
    this.i++;
    if (token.kind === 'string') return { kind: 'literal', value: token.text };
    if (token.kind === 'number') return { kind: 'literal', value: Number(token.text) };
    if (token.kind === 'word' && !KEYWORDS.has(token.text.toLowerCase())) {
      if (this.peek()?.text === '(') {
        if (token.text.toLowerCase() !== 'count')
          throw new HogQLError(`Unsupported function call '${token.text}(...)'`);
        this.i++;
        if (this.peek()?.text === '*') this.i++;
        if (this.peek()?.text !== ')') this.fail("expected ')'");
        this.i++;
        return { kind: 'count' };
      }
      return { kind: 'column', name: token.text };
    }
    this.i--;
    return this.fail('expected an expression');
  }

  private integer(): number {
    const token = this.peek();
    if (token?.kind !== 'number' || !/^\d+$/.test(token.text)) this.fail('expected an integer');
    this.i++;
    return Number(token.text);
  }

  parse(): Query {
    this.expectWord('select');
    const select: SelectItem[] = [];
    do {
      const start = this.i;
      const expr = this.expr();
      let name =
        expr.kind === 'count'
          ? 'count()'
          : this.tokens
              .slice(start, this.i)
              .map((t) => t.text)
              .join('');
      if (this.isWord('as')) {
        this.i++;
        const alias = this.peek();
        if (alias?.kind !== 'word') this.fail('expected an alias');
        name = alias.text;
        this.i++;
      }
      select.push({ expr, name });
    } while (this.peek()?.text === ',' && ++this.i);
    this.expectWord('from');
    const table = this.peek();
    if (table?.kind !== 'word') this.fail('expected a table');
    this.i++;
    const where: Condition[] = [];
    if (this.isWord('where')) {
      this.i++;
      do {
        const left = this.expr();
        const op = this.peek();
        if (op?.kind !== 'symbol' || !['=', '!=', '<', '>', '<=', '>='].includes(op.text))
          this.fail('expected a comparison');
        this.i++;
        where.push({ left, op: op.text, right: this.expr() });
      } while (this.isWord('and') && ++this.i);
    }
    const groupBy: Expr[] = [];
    if (this.isWord('group')) {
      this.i++;
      this.expectWord('by');
      do groupBy.push(this.expr());
      while (this.peek()?.text === ',' && ++this.i);
    }
    const orderBy: { name: string; desc: boolean }[] = [];
    if (this.isWord('order')) {
      this.i++;
      this.expectWord('by');
      do {
        const start = this.i;
        const expr = this.expr();
        const name =
          expr.kind === 'count'
            ? 'count()'
            : this.tokens
                .slice(start, this.i)
                .map((t) => t.text)
                .join('');
        let desc = false;
        if (this.isWord('desc') || this.isWord('asc')) {
          desc = this.isWord('desc');
          this.i++;
        }
        orderBy.push({ name, desc });
      } while (this.peek()?.text === ',' && ++this.i);
    }
    let limit: number | undefined;
    let offset = 0;
    if (this.isWord('limit')) {
      this.i++;
      limit = this.integer();
    }
    if (this.isWord('offset')) {
      this.i++;
      offset = this.integer();
    }
    if (this.peek() !== undefined) this.fail('expected end of query');
    return { select, table: table.text, where, groupBy, orderBy, limit, offset };
  }
}

/** A row source for the interpreter: a table's rows and how to read a column of one. */
export interface HogQLTable {
  readonly rows: readonly unknown[];
  /** The column's ClickHouse type, or `undefined` when the table has no such column. */
  typeOf(column: string): string | undefined;
  read(row: unknown, column: string): unknown;
}

/**
 * The answer to a query, shaped like the query API's `HogQLQueryResponse`.
 */
export interface HogQLResult {
  readonly results: unknown[][];
  readonly columns: string[];
  readonly types: [string, string][];
  readonly hasMore: boolean;
  readonly limit: number;
  readonly offset: number;
}

const compare = (a: unknown, b: unknown): number => {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;
};

function test(op: string, left: unknown, right: unknown): boolean {
  const l = typeof right === 'number' && typeof left === 'string' && left !== '' ? Number(left) : left;
  const r = typeof left === 'number' && typeof right === 'string' ? Number(right) : right;
  const c = compare(l, r);
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    default:
      return c >= 0;
  }
}

/** Runs `query` against `tables`; throws a {@link HogQLError} for what a real server rejects. */
export function runHogQL(query: string, tables: Readonly<Record<string, HogQLTable>>): HogQLResult {
  const parsed = new Parser(tokenize(query)).parse();
  const table = tables[parsed.table.toLowerCase()];
  if (table === undefined) throw new HogQLError(`Unknown table \`${parsed.table}\`.`);
  const typeOf = (expr: Expr): string => {
    if (expr.kind === 'count') return 'UInt64';
    if (expr.kind === 'literal') return typeof expr.value === 'number' ? 'Float64' : 'String';
    const type = table.typeOf(expr.name);
    if (type === undefined) throw new HogQLError(`Unable to resolve field: ${expr.name}`);
    return type;
  };
  const value = (row: unknown, expr: Expr): unknown =>
    expr.kind === 'literal' ? expr.value : expr.kind === 'column' ? table.read(row, expr.name) : null;
  for (const condition of parsed.where) {
    typeOf(condition.left);
    typeOf(condition.right);
  }
  const types = parsed.select.map((item): [string, string] => [item.name, typeOf(item.expr)]);
  const rows = table.rows.filter((row) =>
    parsed.where.every((c) => test(c.op, value(row, c.left), value(row, c.right))),
  );

  const aggregated = parsed.groupBy.length > 0 || parsed.select.some((item) => item.expr.kind === 'count');
  let output: unknown[][];
  if (!aggregated) {
    output = rows.map((row) => parsed.select.map((item) => value(row, item.expr)));
  } else {
    const keyOf = (expr: Expr): string =>
      expr.kind === 'column' ? `c:${expr.name}` : expr.kind === 'literal' ? `l:${expr.value}` : 'count';
    const grouped = new Set(
      parsed.groupBy.map((expr) => {
        typeOf(expr);
        return keyOf(expr);
      }),
    );
    for (const item of parsed.select) {
      if (item.expr.kind === 'column' && !grouped.has(keyOf(item.expr))) {
        throw new HogQLError(`Column \`${item.name}\` must be in GROUP BY or inside an aggregate function`);
      }
    }
    const groups = new Map<string, { first: unknown; count: number }>();
    for (const row of rows) {
      const key = JSON.stringify(parsed.groupBy.map((expr) => value(row, expr)));
      const group = groups.get(key);
      if (group === undefined) groups.set(key, { first: row, count: 1 });
      else group.count += 1;
    }
    if (groups.size === 0 && parsed.groupBy.length === 0) groups.set('[]', { first: undefined, count: 0 });
    output = [...groups.values()].map((group) =>
      parsed.select.map((item) => (item.expr.kind === 'count' ? group.count : value(group.first, item.expr))),
    );
  }

  if (parsed.orderBy.length > 0) {
    const indexes = parsed.orderBy.map((order) => {
      const index = parsed.select.findIndex((item) => item.name === order.name);
      if (index < 0) throw new HogQLError(`Unable to resolve field: ${order.name}`);
      return { index, desc: order.desc };
    });
    output.sort((a, b) => {
      for (const { index, desc } of indexes) {
        const c = compare(a[index], b[index]);
        if (c !== 0) return desc ? -c : c;
      }
      return 0;
    });
  }
  const limit = Math.min(parsed.limit ?? 100, 50_000);
  const page = output.slice(parsed.offset, parsed.offset + limit);
  return {
    results: page,
    columns: types.map(([name]) => name),
    types,
    hasMore: output.length > parsed.offset + limit,
    limit,
    offset: parsed.offset,
  };
}
