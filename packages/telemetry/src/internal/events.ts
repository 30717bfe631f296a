/**
 * Reading policy events alike whatever package emitted them, following the conventions of
 * docs/writing-a-policy.md: `type` in kebab-case, `policy` the emitter's name, `context` for per-call
 * events, durations in `…Ms`, errors in `error`, states as string literals.
 */

import type { PolicyEvent } from '@bulwark/core';

/** The counters every sink names, and the event types that feed them. */
export type EventCounter = 'retries' | 'rejections' | 'timeouts' | 'cacheHits' | 'cacheMisses' | 'cacheStale';

const COUNTERS: Readonly<Record<string, EventCounter>> = {
  retry: 'retries',
  rejected: 'rejections',
  timeout: 'timeouts',
  hit: 'cacheHits',
  miss: 'cacheMisses',
  stale: 'cacheStale',
};

/** Which named counter an event type feeds, if any. */
export function counterOf(type: string): EventCounter | undefined {
  return Object.prototype.hasOwnProperty.call(COUNTERS, type) ? COUNTERS[type] : undefined;
}

/** The state a breaker moved to, from a `state-change` event (`to`), if the event is one. */
export function stateChangeTo(event: PolicyEvent): string | undefined {
  if (event.type !== 'state-change') return undefined;
  const to = (event as { to?: unknown }).to;
  return typeof to === 'string' ? to : undefined;
}

/** The fields of an event other than `type`, `policy` and `context`. */
export function eventFields(event: PolicyEvent): [string, unknown][] {
  const fields: [string, unknown][] = [];
  for (const key of Object.keys(event)) {
    if (key === 'type' || key === 'policy' || key === 'context') continue;
    fields.push([key, (event as unknown as Record<string, unknown>)[key]]);
  }
  return fields;
}

/** The states breakers report, in the order a gauge lists them. */
export const BREAKER_STATES: readonly string[] = ['closed', 'half-open', 'open', 'isolated'];
