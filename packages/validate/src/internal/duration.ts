/** Milliseconds for people: `850 ms`, `12 s`, `3.5 min`, `2.1 h`, `3.2 days`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (!Number.isFinite(abs)) return `${ms} ms`;
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${round(ms / 1000)} s`;
  if (abs < 3_600_000) return `${round(ms / 60_000)} min`;
  if (abs < 86_400_000) return `${round(ms / 3_600_000)} h`;
  return `${round(ms / 86_400_000)} days`;
}

const round = (n: number): string => String(Math.round(n * 10) / 10);

/** A number for people: at most `digits` significant digits, no exponent for everyday magnitudes. */
export function formatNumber(n: number, digits = 6): string {
  if (!Number.isFinite(n)) return String(n);
  return String(Number(n.toPrecision(digits)));
}
