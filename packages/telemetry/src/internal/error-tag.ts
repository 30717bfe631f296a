/**
 * The label of a failure in metrics and spans: a Bulwark error's `_tag`, another error's `name`, or
 * the kind of value thrown. Bounded per policy by {@link TagSet}, so a stream of distinct error names
 * cannot blow up a metrics backend.
 */

/** The `_tag` of a Bulwark error (or any tagged value), the `name` of another error, else `'unknown'`. */
export function errorTag(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const tag = (error as { _tag?: unknown })._tag;
    if (typeof tag === 'string' && tag !== '') return tag;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return 'unknown';
}

/** The label for failures whose tag came after the set was full. */
export const OTHER_TAG = 'other';

/**
 * Interns failure tags up to a limit: the first `max` distinct tags are kept (redacted once), later
 * ones become {@link OTHER_TAG}.
 */
export class TagSet {
  private readonly known = new Map<string, string>();

  constructor(
    private readonly max: number,
    private readonly clean: (tag: string) => string = (tag) => tag,
  ) {}

  /** The label to record for `error`. */
  of(error: unknown): string {
    const tag = errorTag(error);
    const label = this.known.get(tag);
    if (label !== undefined) return label;
    if (this.known.size >= this.max) return OTHER_TAG;
    const cleaned = this.clean(tag);
    this.known.set(tag, cleaned);
    return cleaned;
  }
}
