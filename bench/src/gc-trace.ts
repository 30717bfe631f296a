/**
 * Bytes allocated, read from the collector's trace (`node --trace-gc`): every collection prints the
 * heap's used size before and after it, so what a program allocated between two collections is the
 * sum, over the collections after the first up to the second, of each one's size before less the
 * previous one's size after. `bench:instructions` brackets its measured calls with two forced
 * collections (`testing` in the trace: `global.gc()` under `--expose-gc`).
 *
 * @module
 */

/** One line of `--trace-gc`: the heap's used size before and after a collection, in MB. */
const GC_LINE =
  /: (?:Scavenge|Mark-Compact|Mark-Sweep|Minor Mark-Compact|Mark-Compact \(reduce\)) ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB.*?(testing)?;/;

/** A collection in the trace: used heap before and after, in MB, and whether it was forced. */
interface Collection {
  readonly before: number;
  readonly after: number;
  readonly forced: boolean;
}

/**
 * Bytes allocated per call of `calls` calls made between the last two forced collections of `trace`.
 * Throws when the trace has fewer than two forced collections, rather than return a wrong figure.
 */
export function allocatedPerCall(trace: string, calls: number): number {
  const collections = trace.split('\n').flatMap((line): Collection[] => {
    const match = GC_LINE.exec(line);
    return match === null
      ? []
      : [{ before: Number(match[1]), after: Number(match[2]), forced: match[3] !== undefined }];
  });
  const forced = collections.flatMap((collection, i) => (collection.forced ? [i] : []));
  const [start, end] = forced.slice(-2);
  if (start === undefined || end === undefined) throw new Error(`no two forced collections in the trace:\n${trace}`);
  let megabytes = 0;
  for (let i = start + 1; i <= end; i++) {
    megabytes += (collections[i] as Collection).before - (collections[i - 1] as Collection).after;
  }
  return (megabytes * 1024 * 1024) / calls;
}
