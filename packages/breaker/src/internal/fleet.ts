/**
 * Keeps one breaker in line with its fleet through a store.
 *
 * The consistency model (the README's "Consistency" section says it for users):
 * - Counting is local: each process judges its own calls with its own window. Only decisions travel.
 * - A process whose window trips opens at once locally and votes; the fleet opens when `quorum`
 *   distinct breakers voted within `quorumWindowMs` (with the default quorum of 1, at the first vote).
 * - The fleet's state (open with its wait, half-open, closed, isolated) is authoritative once
 *   adopted: a process adopts every change of it, learnt from the answer to its own operations or from
 *   the store's periodic sync, so within `syncIntervalMs` plus a round trip of the change.
 *   The success path never waits on the store.
 * - Half-open probes of a fleet-driven breaker need a lease from the store: at most `probes` in flight
 *   across the fleet. The fleet closes after `successesToClose` successful probes (from any process)
 *   and reopens, with a longer wait, on a failed one.
 * - When the store cannot be reached the breaker works on its local state alone (probes included),
 *   reports `store-error` once per outage, and when the store answers again tells it what it
 *   learnt meanwhile (a pending vote, its isolations, an open state the store lost) before adopting
 *   the fleet's state again.
 *
 * @module
 */

import type { Scope } from '@bulwark/core';

import type { BreakerCore } from '../breaker.js';
import { closed, events, type MachineState } from '../machine.js';
import type { BreakerStore, FleetLink, FleetParams, FleetView, ProbeGrant } from '../store.js';
import { Probe } from './probe.js';

/** @internal */
export class FleetSync {
  private readonly link: FleetLink;
  /** The fleet generation last adopted. */
  private generation: string | undefined = undefined;
  /** The fleet's reset count last seen. */
  private resets: number | undefined = undefined;
  /** Whether the local state (open, half-open or isolated) is the fleet's rather than this process's own. */
  private driven = false;
  /** Whether the store answered the last operation. */
  reachable = true;
  /** A vote that could not be delivered, to send once the store answers again. */
  private pendingVote = false;
  /** Releases and a reset that could not be delivered, likewise. */
  private readonly pendingReleases = new Set<string>();
  private pendingReset = false;
  /** The store answered again after failing: the next sync re-reads and reasserts everything. */
  private recovering = false;
  /**
   * This breaker's isolations, to restore if the store loses them: by holder id, the fleet's reset
   * count in the answer to the holder's own `isolate` (undefined until it answered). A reset ends
   * only the isolations the fleet held when it was made, those answered with a lower count.
   */
  private readonly holders = new Map<string, number | undefined>();
  private seq = 0;
  private disposed = false;
  /** Until when (breaker clock, ms) a refused probe request is not repeated. */
  private quietUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly core: BreakerCore,
    store: BreakerStore,
    params: FleetParams,
  ) {
    this.link = store.attach(core.name, params, {
      onView: (view) => this.answered(view),
      onError: (error) => this.failed('sync', error),
    });
    // Started from a snapshot of an open breaker: the fleet should hear of it (with what is left of
    // its wait). Of an isolated one: nothing to say; the fleet's isolations are in Redis, and the
    // first sync tells whether any still stands.
    this.pendingVote = core.machine.state === 'open';
  }

  /** Whether a probe must ask the fleet for a lease (or may go on local say-so). */
  leasesProbes(): boolean {
    return this.driven && this.reachable && !this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.link.detach();
  }

  // -------------------------------------------------------------------------------------------
  // what the local breaker did
  // -------------------------------------------------------------------------------------------

  /** The local state changed (not by adopting the fleet's). */
  transition(previous: MachineState, next: MachineState, source: 'local' | 'manual' | 'fleet'): void {
    if (source === 'fleet') return;
    if (next.state === 'closed') {
      const own = !this.driven && (previous.state === 'open' || previous.state === 'half-open');
      this.driven = false;
      // This process's own trip is over: take back its vote.
      if (own && source === 'local') this.run('withdraw', () => this.link.withdraw());
      return;
    }
    // This process tripped (or its own probe failed): tell the fleet.
    if (source === 'local' && next.state === 'open' && !this.driven) this.vote();
  }

  /** Votes to trip, saying how long this breaker stays open (it may be restored from a snapshot). */
  private vote(): void {
    this.pendingVote = false;
    const m = this.core.machine;
    const remainingMs = m.state === 'open' ? Math.max(0, m.untilMs - this.core.now()) : 0;
    const openings = m.state === 'open' || m.state === 'half-open' ? m.openings : 1;
    this.run(
      'trip',
      () => this.link.trip(remainingMs, openings),
      () => {
        this.pendingVote = true;
      },
    );
  }

  isolate(): string {
    const holder = `${this.link.member}:isolate:${++this.seq}`;
    this.holders.set(holder, undefined);
    this.sendIsolate(holder);
    return holder;
  }

  private sendIsolate(holder: string): void {
    this.run('isolate', () =>
      this.link.isolate(holder).then((view) => {
        // Recorded before the view is adopted: a reset this answer is the first to show came before
        // this isolation reached the fleet, so it does not end it.
        if (this.holders.has(holder)) this.holders.set(holder, view.resets);
        return view;
      }),
    );
  }

  /** Ends an isolation; returns false when there was none to end (a reset ended it already). */
  release(holder: string): boolean {
    if (!this.holders.delete(holder)) return false;
    this.run(
      'release',
      () => this.link.release(holder),
      () => this.pendingReleases.add(holder),
    );
    return true;
  }

  reset(): void {
    this.holders.clear();
    this.pendingReleases.clear();
    this.pendingVote = false;
    this.driven = false;
    this.run(
      'reset',
      () => this.link.reset(),
      () => {
        this.pendingReset = true;
      },
    );
  }

  // -------------------------------------------------------------------------------------------
  // probes
  // -------------------------------------------------------------------------------------------

  /** Takes a local probe slot (the breaker checked one is free), then asks the fleet for a lease. */
  acquire(ctx: Scope, now: number): Promise<number | Probe> {
    const core = this.core;
    // Refused a moment ago: refuse locally rather than ask the store on every call.
    if (now < this.quietUntil) throw core.rejection(ctx, core.machine.state === 'open' ? this.quietUntil - now : 0);
    core.apply(events.probe, now, 'local');
    core.takeProbeSlot();
    const generation = core.generation;
    const lease = `${this.link.member}:probe:${++this.seq}`;
    return this.link.acquireProbe(lease).then(
      (grant: ProbeGrant) => {
        this.succeeded();
        const start = core.now();
        if (grant.granted && core.generation === generation) {
          this.adopt(grant.view);
          if (core.generation === generation) return new Probe(generation, start, lease, grant.view.generation);
        }
        // Refused, or the local state moved on while we asked: give back what we took. A refusal
        // is adopted even in a generation already seen (the fleet's wait is not over yet), so that
        // later calls are refused locally instead of asking again.
        if (grant.granted) this.run('probe-result', () => this.link.probeDone(lease, grant.view.generation, 'release'));
        core.freeProbeSlot();
        if (core.generation === generation) core.apply(events.release, start, 'local');
        if (!grant.granted) this.quietUntil = start + this.link.syncIntervalMs;
        this.adopt(grant.view, !grant.granted);
        return this.admitOrRefuse(ctx, start);
      },
      (error: unknown) => {
        this.failed('probe', error);
        // The store is out of reach: the probe goes on local say-so, in the slot it took.
        if (core.generation === generation) return new Probe(generation, core.now(), undefined, '');
        core.freeProbeSlot();
        return this.admitOrRefuse(ctx, core.now());
      },
    );
  }

  /** After a probe request that came to nothing: the call goes if the breaker has closed meanwhile. */
  private admitOrRefuse(ctx: Scope, now: number): number {
    if (this.core.machine.state === 'closed') return now;
    throw this.core.rejection(ctx, this.core.refusal(now) ?? 0);
  }

  /** Reports a leased probe's outcome; the local slot is held until the fleet has answered. */
  probeDone(probe: Probe, outcome: 'success' | 'failure' | 'release', now: number): void {
    const lease = probe.lease as string;
    if (this.disposed) {
      this.core.probeSettled(probe, outcome, outcome === 'failure' ? Number.POSITIVE_INFINITY : 0, now);
      return;
    }
    this.link.probeDone(lease, probe.fleetGeneration, outcome).then(
      (view) => {
        this.succeeded();
        this.core.probeSettled(probe, 'release', 0, now);
        this.adopt(view);
      },
      (error: unknown) => {
        this.failed('probe-result', error);
        // Judge the probe locally, as a breaker without a store would.
        this.core.probeSettled(probe, outcome, outcome === 'failure' ? Number.POSITIVE_INFINITY : 0, now);
      },
    );
  }

  // -------------------------------------------------------------------------------------------
  // what the fleet says
  // -------------------------------------------------------------------------------------------

  /** Runs a store operation whose answer is a view to adopt. */
  private run(operation: string, send: () => Promise<FleetView>, onError?: () => void): void {
    if (this.disposed) return;
    send().then(
      (view) => {
        this.succeeded();
        this.adopt(view);
      },
      (error: unknown) => {
        onError?.();
        this.failed(operation, error);
      },
    );
  }

  /** A view from the periodic sync. */
  private answered(view: FleetView): void {
    this.succeeded();
    const recovered = this.recovering;
    this.recovering = false;
    // A reset elsewhere ends this breaker's isolations: learn that before reasserting them.
    this.noteResets(view);
    if (this.reassert(view, recovered)) return;
    // After an outage the fleet's state is adopted even if its generation is one already seen:
    // this breaker may have moved on its own meanwhile.
    this.adopt(view, recovered);
  }

  /**
   * Someone (this breaker included) reset the fleet since the last view: that ends this breaker's
   * vote and the isolations the fleet held before the reset. An isolation whose own answer showed
   * the new count, or that has not been answered yet, reached the fleet after the reset (answers come
   * in the order the operations were sent) and stands.
   */
  private noteResets(view: FleetView): void {
    if (!view.known || this.disposed) return;
    if (this.resets !== undefined && view.resets > this.resets) {
      let ended = 0;
      for (const [holder, seenResets] of this.holders) {
        if (seenResets !== undefined && seenResets < view.resets) {
          this.holders.delete(holder);
          ended++;
        }
      }
      this.pendingVote = false;
      this.driven = false;
      const core = this.core;
      core.dropHolds(ended);
      const kept = this.holders.size;
      if (kept > 0) core.force({ state: 'isolated', holders: kept }, core.now());
      else if (core.machine.state !== 'closed') core.force(closed(core.config), core.now());
    }
    this.resets = view.resets;
  }

  /** The store answered: returns whether it had not before (an outage ended). */
  private succeeded(): boolean {
    if (this.reachable) return false;
    this.reachable = true;
    this.recovering = true;
    const { emitter, name } = this.core;
    if (emitter.active) emitter.emit({ type: 'store-recovered', policy: name });
    return true;
  }

  private failed(operation: string, error: unknown): void {
    const first = this.reachable;
    this.reachable = false;
    // A sync runs every few ms: only the first failure of an outage is news.
    if (operation === 'sync' && !first) return;
    const { emitter, name } = this.core;
    if (emitter.active) emitter.emit({ type: 'store-error', policy: name, operation, error });
  }

  /**
   * Tells the store what this breaker knows and it does not: a vote that could not be delivered, its
   * isolations, an open state the store lost (a restart). Returns whether it did (the answers will be
   * adopted in place of `view`).
   */
  private reassert(view: FleetView, recovered: boolean): boolean {
    let told = false;
    if (this.pendingReset) {
      this.pendingReset = false;
      this.run('reset', () => this.link.reset());
      told = true;
    }
    for (const holder of this.pendingReleases) this.run('release', () => this.link.release(holder));
    if (this.pendingReleases.size > 0) told = true;
    this.pendingReleases.clear();
    if (this.holders.size > 0 && view.state !== 'isolated') {
      for (const holder of this.holders.keys()) this.sendIsolate(holder);
      told = true;
    }
    const m = this.core.machine;
    if (m.state === 'open' || m.state === 'half-open') {
      if (this.driven && !view.known && view.state === 'closed') {
        const remainingMs = m.state === 'open' ? Math.max(0, m.untilMs - this.core.now()) : 0;
        this.run('seed', () => this.link.seedOpen(remainingMs, m.openings));
        told = true;
      } else if (!this.driven && (this.pendingVote || (recovered && view.state === 'closed'))) {
        this.vote();
        told = true;
      }
    } else {
      this.pendingVote = false;
    }
    return told;
  }

  /** Makes the fleet's state the local one, if it changed since last adopted. */
  private adopt(view: FleetView, again = false): void {
    if (this.disposed) return;
    const core = this.core;
    this.noteResets(view);
    if (view.generation === this.generation && !again) return;
    // A new fleet generation: whatever refused the last probe request is over.
    if (view.generation !== this.generation) this.quietUntil = Number.NEGATIVE_INFINITY;
    this.generation = view.generation;
    const now = core.now();
    const m = core.machine;
    switch (view.state) {
      case 'isolated':
        if (m.state !== 'isolated') core.force({ state: 'isolated', holders: 1 }, now);
        this.driven = true;
        return;
      case 'open':
        core.force({ state: 'open', untilMs: now + view.remainingMs, openings: view.openings }, now);
        this.driven = true;
        return;
      case 'half-open':
        if (m.state !== 'half-open') {
          core.force({ state: 'half-open', openings: view.openings, inFlight: 0, successes: 0 }, now);
        }
        this.driven = true;
        return;
      case 'closed':
        // The fleet closed (recovered or released): follow it, unless this process is open on its
        // own say-so (it tripped and the quorum has not), or holds an isolation the fleet is about to
        // hear of.
        if (m.state === 'isolated' ? core.ownHolds === 0 : this.driven) {
          if (m.state !== 'closed') core.force(closed(core.config), now);
          this.driven = false;
        }
        return;
    }
  }
}
